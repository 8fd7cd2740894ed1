/** The shells `fleetctl completion` writes a script for. */
export const completionShells = ['bash', 'zsh'] as const;
export type CompletionShell = (typeof completionShells)[number];

/**
 * The flag the scripts call fleetctl with: `fleetctl --get-yargs-completions WORD...` prints one
 * candidate per line for the last WORD (yargs' protocol). Commands, flags and choices come from
 * fleetctl itself; only unit names (after `stop`, `status`, ...) come from the API.
 */
export const completionRequestFlag = '--get-yargs-completions';

// SHELL=... tells yargs which format to print: plain names for bash, "name:description" for zsh.
const bash = `# bash completion for fleetctl
#
# Load it into the current shell:  source <(fleetctl completion bash)
# or install it:                   fleetctl completion bash > /etc/bash_completion.d/fleetctl
#
# Commands, flags and their choices come from fleetctl itself, without contacting the cluster;
# abbreviated commands (list-m) complete like full ones. Unit names after start, stop, status...
# come from the fleet API at --endpoint (or FLEETCTL_ENDPOINT); file names otherwise.

_fleetctl_completions()
{
    local cur words cword
    if declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
        _get_comp_words_by_ref -n =: cur words cword
    else
        cur="\${COMP_WORDS[COMP_CWORD]}"
        words=("\${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi
    local IFS=$'\\n'
    local -a candidates
    candidates=($(SHELL=/bin/bash "\${words[0]}" ${completionRequestFlag} "\${words[@]:0:cword+1}" 2>/dev/null))
    COMPREPLY=($(compgen -W "\${candidates[*]}" -- "$cur"))
    if declare -F __ltrim_colon_completions >/dev/null 2>&1; then
        __ltrim_colon_completions "$cur"
    fi
    return 0
}
complete -o bashdefault -o default -F _fleetctl_completions fleetctl
`;

const zsh = `#compdef fleetctl
# zsh completion for fleetctl
#
# Load it into the current shell:  source <(fleetctl completion zsh)
# or install it as _fleetctl in a directory of $fpath.
#
# Commands, flags and their choices come from fleetctl itself, without contacting the cluster;
# abbreviated commands (list-m) complete like full ones. Unit names after start, stop, status...
# come from the fleet API at --endpoint (or FLEETCTL_ENDPOINT); file names otherwise.

_fleetctl() {
  local -a candidates
  local IFS=$'\\n'
  candidates=($(SHELL=/bin/zsh "\${words[1]}" ${completionRequestFlag} "\${(@)words[1,CURRENT]}" 2>/dev/null))
  if (( \${#candidates} > 0 )); then
    _describe 'fleetctl' candidates
  else
    _files
  fi
}

if [[ "\${zsh_eval_context[-1]}" == "loadautofunc" ]]; then
  _fleetctl "$@"
else
  compdef _fleetctl fleetctl
fi
`;

/** The completion script for `shell`, as `fleetctl completion <shell>` prints it. */
export function completionScript(shell: CompletionShell): string {
  switch (shell) {
    case 'bash':
      return bash;
    case 'zsh':
      return zsh;
  }
}
