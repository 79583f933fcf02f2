/**
 * `sluice completion bash|zsh`: a completion script for the shell, written from the command
 * table (command-table.ts), so it completes exactly the commands and options the CLI accepts:
 * after `sluice topics add` the options of `topics add` and the global ones, never those of
 * another command. zsh runs the bash function through its bashcompinit layer.
 */
import { CliError, EXIT } from './api-client.ts';
import { COMMANDS, GROUPS, OPTION_VALUES, type OptionName, optionsOf } from './command-table.ts';

const flags = (names: readonly OptionName[]): string => names.map((n) => `--${n}`).join(' ');

function bashFunction(): string {
  const firstWords = [...new Set(Object.keys(COMMANDS).map((c) => c.split(' ')[0]))].join(' ');
  const verbs = [...GROUPS].map((g) => {
    const of = Object.keys(COMMANDS).filter((c) => c.startsWith(`${g} `));
    return `    ${g}) cmd="$cmd \${COMP_WORDS[2]}"; [ "$COMP_CWORD" -eq 2 ] && words="${of.map((c) => c.slice(g.length + 1)).join(' ')}" ;;`;
  });
  const options = Object.keys(COMMANDS).map((c) => `    "${c}") words="${flags(optionsOf(c))}" ;;`);
  const values = Object.entries(OPTION_VALUES).map(([o, v]) => `    --${o}) words="${v.join(' ')}" ;;`);
  // Each step sets the words to offer unless an earlier one did: an option's values, the
  // commands, a group's verbs, the options of the command typed (once a "-" is typed).
  return `_sluice() {
  local cur prev cmd words=""
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
${values.join('\n')}
    completion) [ "$COMP_CWORD" -eq 2 ] && words="bash zsh" ;;
  esac
  [ -z "$words" ] && [ "$COMP_CWORD" -eq 1 ] && words="${firstWords} ${flags(optionsOf(''))}"
  if [ -z "$words" ] && [ "$COMP_CWORD" -gt 1 ]; then
    cmd="\${COMP_WORDS[1]}"
    case "$cmd" in
${verbs.join('\n')}
    esac
  fi
  if [ -z "$words" ] && [[ "$cur" == -* ]]; then
    case "$cmd" in
${options.join('\n')}
    esac
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
  return 0
}
complete -F _sluice sluice`;
}

/** The script `sluice completion <shell>` prints; source it from the shell's startup file. */
export function completionScript(shell: string | undefined): string {
  switch (shell) {
    case 'bash':
      return `# sluice completion for bash: add  source <(sluice completion bash)  to ~/.bashrc\n${bashFunction()}\n`;
    case 'zsh':
      return `#compdef sluice\n# sluice completion for zsh: add  source <(sluice completion zsh)  to ~/.zshrc\nautoload -U +X bashcompinit && bashcompinit\n${bashFunction()}\n`;
    default:
      throw new CliError(
        `sluice completion needs the shell: bash or zsh${shell ? ` (not "${shell}")` : ''}, e.g. source <(sluice completion bash)`,
        EXIT.USAGE,
      );
  }
}
