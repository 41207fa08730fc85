# Complete a command line in a real interactive zsh (on a pseudo-terminal,
# through zsh/zpty) and print each word the completion system offers as
# <<WORD>>. Used by tests/netstat_diff/docs.rs.
#
# usage: zsh -f zsh_complete.zsh DIR 'LINE'
#   DIR   a directory with the completion function (_nlstat), put first in
#         $fpath
#   LINE  the command line, completed at its end as if Tab were pressed
zmodload zsh/zpty || exit 2
dir=$1 line=$2

zpty shell zsh -f -i
zpty -w shell "PS1=''; PS2=''; fpath=($dir \$fpath); autoload -Uz compinit; compinit -u -D"
# every word the completion functions add (not the internal matching calls
# with -O, -A or -D) is printed before it is added
zpty -w shell 'compadd() { if (( ${argv[(I)-[OAD]]} )); then builtin compadd "$@"; return; fi; local -a words; builtin compadd -O words "$@"; local w; for w in $words; do print -r -- "<<$w>>"; done; builtin compadd "$@"; }'
zpty -w shell 'completion-done() { print -r -- "<<COMPLETION-DONE>>"; }; comppostfuncs=(completion-done)'
zpty -w shell 'zstyle ":completion:*" menu no; bindkey "^I" complete-word'
zpty -w shell 'print -r -- READY-$((6*7))'

# read until MARK shows up, for at most ten seconds
read_until() {
    out=
    integer deadline=$(( SECONDS + 10 ))
    while (( SECONDS < deadline )); do
        if zpty -r -t shell chunk; then
            out+=$chunk
            [[ $out == *$1* ]] && return 0
        else
            sleep 0.05
        fi
    done
    return 1
}
read_until READY-42 || { print -u2 "zsh did not start"; zpty -d shell; exit 3; }
zpty -n -w shell "$line"$'\t'
read_until '<<COMPLETION-DONE>>' || { print -u2 "no completion in ten seconds"; zpty -d shell; exit 4; }
zpty -d shell
print -r -- "$out" | grep -ao '<<[^>]*>>' | grep -v '<<COMPLETION-DONE>>'
exit 0
