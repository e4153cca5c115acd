import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderQueryTemplate, type QueryTemplateModel } from '../../../analysis/query-template.ts';

const model: QueryTemplateModel = {
  name: 'podinfo',
  namespace: 'test',
  target: 'podinfo-deploy',
  interval: '1m',
  variables: { route: '/api', code: '5..' },
};

describe('renderQueryTemplate', () => {
  it('substitutes the canary fields with or without spaces inside the braces', () => {
    const rendered = renderQueryTemplate(
      'up{ns="{{ namespace }}",c="{{name}}",t="{{  target  }}",s="{{ service }}"}[{{interval}}]',
      model,
    );
    assert.deepEqual(rendered, {
      ok: true,
      query: 'up{ns="test",c="podinfo",t="podinfo-deploy",s="podinfo-deploy"}[1m]',
    });
  });

  it('uses spec.service.name for {{ service }} when the canary sets it', () => {
    assert.deepEqual(renderQueryTemplate('{{ service }}', { ...model, service: 'web' }), {
      ok: true,
      query: 'web',
    });
  });

  it('substitutes templateVariables through {{ variables.x }}', () => {
    assert.deepEqual(
      renderQueryTemplate('x{route="{{ variables.route }}",code=~"{{variables.code}}"}', model),
      {
        ok: true,
        query: 'x{route="/api",code=~"5.."}',
      },
    );
  });

  it('applies Go trim markers and drops comments', () => {
    assert.deepEqual(renderQueryTemplate('a  {{- namespace -}}  b{{/* why */}}c', model), {
      ok: true,
      query: 'atestbc',
    });
  });

  it('names an unknown template variable and how to set it', () => {
    const rendered = renderQueryTemplate('x{r="{{ variables.missing }}"}', model);
    assert.equal(rendered.ok, false);
    assert.match(!rendered.ok ? rendered.error : '', /variables\.missing.*templateVariables.*route, code/);
  });

  it('names an unknown top-level name', () => {
    const rendered = renderQueryTemplate('{{ deployment }}', model);
    assert.equal(rendered.ok, false);
    assert.match(!rendered.ok ? rendered.error : '', /unknown template variable "deployment"/);
  });

  it('rejects an unclosed action instead of sending it to Prometheus', () => {
    const rendered = renderQueryTemplate('up{ns="{{ namespace"}', model);
    assert.equal(rendered.ok, false);
    assert.match(!rendered.ok ? rendered.error : '', /unclosed action/);
  });

  it('rejects template logic it does not support', () => {
    const rendered = renderQueryTemplate('{{ if true }}x{{ end }}', model);
    assert.equal(rendered.ok, false);
    assert.match(!rendered.ok ? rendered.error : '', /unsupported template action "\{\{ if true \}\}"/);
  });
});
