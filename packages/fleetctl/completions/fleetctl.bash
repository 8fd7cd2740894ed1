# bash completion for fleetctl
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
        cur="${COMP_WORDS[COMP_CWORD]}"
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi
    local IFS=$'\n'
    local -a candidates
    candidates=($(SHELL=/bin/bash "${words[0]}" --get-yargs-completions "${words[@]:0:cword+1}" 2>/dev/null))
    COMPREPLY=($(compgen -W "${candidates[*]}" -- "$cur"))
    if declare -F __ltrim_colon_completions >/dev/null 2>&1; then
        __ltrim_colon_completions "$cur"
    fi
    return 0
}
complete -o bashdefault -o default -F _fleetctl_completions fleetctl
