// `npm run stack -- up|down|status`: the local stack of real parts for tests and the demo.
import { stackEndpoints } from './endpoints.ts';
import { ProcessTable } from './processes.ts';
import { allComponents, restartExited, stackDown, stackStatus, stackUp } from './stack.ts';
import type { Component } from './stack.ts';

const usage = 'usage: npm run stack -- up | down | status [--json]';

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  switch (command) {
    case 'up':
      await stackUp();
      await printStatus(false);
      return 0;
    case 'down':
      await stackDown();
      return 0;
    case 'status':
      return (await printStatus(argv.includes('--json'))) ? 0 : 1;
    case 'restart-exited': {
      // The supervisor's way back (it runs this in a child process to stay small itself).
      const components = argv.slice(1).filter((c): c is Component => allComponents.includes(c as Component));
      await restartExited(components, stackEndpoints());
      return 0;
    }
    default:
      process.stderr.write(`${usage}\n`);
      return 2;
  }
}

async function printStatus(json: boolean): Promise<boolean> {
  const status = await stackStatus();
  const endpoints = stackEndpoints();
  const supervisor = new ProcessTable(endpoints.stateDir).pid('supervisor');
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ endpoints, components: status, supervisor: supervisor ?? null }, null, 2)}\n`,
    );
  } else {
    for (const s of status) {
      const origin = s.external ? 'external' : s.pid ? `pid ${s.pid}` : 'local';
      const problem = !s.healthy && s.problem ? `  ${s.problem}` : '';
      process.stdout.write(
        `${s.healthy ? 'up  ' : 'DOWN'}  ${s.component.padEnd(11)} ${s.address}  (${origin})${problem}\n`,
      );
    }
    process.stdout.write(
      supervisor === undefined
        ? '      supervisor  not running: exited components stay down until `up`\n'
        : `      supervisor  restarts what exits  (pid ${supervisor})\n`,
    );
  }
  return status.every((s) => s.healthy);
}

// Exit explicitly: a request to a paused apiserver that timed out may still hold the event loop.
try {
  process.exit(await main(process.argv.slice(2)));
} catch (error) {
  process.stderr.write(`stack: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
