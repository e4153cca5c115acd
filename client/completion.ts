// `cutover completion bash|zsh`: the script a shell sources to complete commands, their flags and
// canary names (NAMESPACE/NAME, read with kubectl when it is there). Made from the program itself,
// so a new command or flag is completed without editing a script.
export interface CompletionWords {
  commands: readonly {
    name: string;
    flags: readonly string[];
    /** false: the global flags do not apply (worker). */ globals?: boolean;
  }[];
  globalFlags: readonly string[];
}

export const completionShells = ['bash', 'zsh'] as const;
export type CompletionShell = (typeof completionShells)[number];

/** The commands that take a canary as their word. */
const takesCanary = new Set([
  'status',
  'watch',
  'history',
  'promote',
  'abort',
  'approve',
  'pause',
  'resume',
  'retry',
  'rollback',
  'undo',
]);

export function completionScript(shell: CompletionShell, words: CompletionWords): string {
  const cases = words.commands
    .map((c) => {
      const flags = [...c.flags, ...(c.globals === false ? [] : words.globalFlags)].join(' ');
      const canaries = takesCanary.has(c.name) ? ' $(__cutover_canaries)' : '';
      return `    ${c.name}) COMPREPLY=($(compgen -W "${flags}${canaries}" -- "$cur")) ;;`;
    })
    .join('\n');
  const bash = `# cutover shell completion (${shell}); source it, e.g. source <(cutover completion ${shell})
__cutover_canaries() {
  command -v kubectl >/dev/null 2>&1 || return 0
  kubectl get canaries.flagger.app -A --request-timeout=2s \\
    -o go-template='{{range .items}}{{.metadata.namespace}}/{{.metadata.name}} {{end}}' 2>/dev/null
}
_cutover() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  case "$cmd" in
    "") COMPREPLY=($(compgen -W "${words.commands.map((c) => c.name).join(' ')} ${words.globalFlags.join(' ')}" -- "$cur")) ;;
${cases}
    completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
  esac
}
complete -F _cutover cutover kubectl-cutover
`;
  if (shell === 'bash') return bash;
  // zsh runs bash completion functions through bashcompinit, which ships with zsh.
  return `#compdef cutover kubectl-cutover\nautoload -U +X bashcompinit && bashcompinit\n${bash}`;
}
