_nlstat_options() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="nlstat"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        nlstat)
            opts="-A -C -F -M -a -c -d -e -g -h -i -l -n -N -o -p -r -s -S -t -u -U -v -V -W -T -w -x -6 -4 -2 -f -Z --protocol --cache --fib --masquerade --all --continuous --extend --groups --help --interfaces --listening --numeric --numeric-hosts --numeric-ports --numeric-users --symbolic --timers --program --programs --route --statistics --sctp --tcp --udp --udplite --verbose --version --wide --notrim --raw --unix --inet6 --inet --l2cap --rfcomm --context --ax25 --ip --ipx --appletalk --netrom --ddp --tcpip --econet --x25 --rose --ash --bluetooth --source --pid-source --view-source --json --info --interval --count --record --quiet --replay --events --events-buffer --live --group-by --top --sort --summary --listeners --ephemeral --serve --textfile --min-interval --max-series --netns --all-netns"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --protocol)
                    COMPREPLY=($(compgen -W "inet inet6 unix ip ip6 tcpip ipx ax25 netrom x25 rose ddp appletalk econet ash bluetooth" -- "${cur}"))
                    return 0
                    ;;
                -A)
                    COMPREPLY=($(compgen -W "inet inet6 unix ip ip6 tcpip ipx ax25 netrom x25 rose ddp appletalk econet ash bluetooth" -- "${cur}"))
                    return 0
                    ;;
                --source)
                    COMPREPLY=($(compgen -W "netlink proc" -- "${cur}"))
                    return 0
                    ;;
                --pid-source)
                    COMPREPLY=($(compgen -W "auto bpf proc" -- "${cur}"))
                    return 0
                    ;;
                --view-source)
                    COMPREPLY=($(compgen -W "auto bpf netlink" -- "${cur}"))
                    return 0
                    ;;
                --interval)
                    COMPREPLY=("${cur}")
                    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
                        compopt -o nospace
                    fi
                    return 0
                    ;;
                --count)
                    COMPREPLY=("${cur}")
                    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
                        compopt -o nospace
                    fi
                    return 0
                    ;;
                --record)
                    local oldifs
                    if [ -n "${IFS+x}" ]; then
                        oldifs="$IFS"
                    fi
                    IFS=$'\n'
                    COMPREPLY=($(compgen -f "${cur}"))
                    if [ -n "${oldifs+x}" ]; then
                        IFS="$oldifs"
                    fi
                    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
                        compopt -o filenames
                    fi
                    return 0
                    ;;
                --replay)
                    local oldifs
                    if [ -n "${IFS+x}" ]; then
                        oldifs="$IFS"
                    fi
                    IFS=$'\n'
                    COMPREPLY=($(compgen -f "${cur}"))
                    if [ -n "${oldifs+x}" ]; then
                        IFS="$oldifs"
                    fi
                    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
                        compopt -o filenames
                    fi
                    return 0
                    ;;
                --events-buffer)
                    COMPREPLY=("${cur}")
                    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
                        compopt -o nospace
                    fi
                    return 0
                    ;;
                --group-by)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --top)
                    COMPREPLY=("${cur}")
                    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
                        compopt -o nospace
                    fi
                    return 0
                    ;;
                --sort)
                    COMPREPLY=("${cur}")
                    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
                        compopt -o nospace
                    fi
                    return 0
                    ;;
                --serve)
                    COMPREPLY=("${cur}")
                    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
                        compopt -o nospace
                    fi
                    return 0
                    ;;
                --textfile)
                    local oldifs
                    if [ -n "${IFS+x}" ]; then
                        oldifs="$IFS"
                    fi
                    IFS=$'\n'
                    COMPREPLY=($(compgen -f "${cur}"))
                    if [ -n "${oldifs+x}" ]; then
                        IFS="$oldifs"
                    fi
                    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
                        compopt -o filenames
                    fi
                    return 0
                    ;;
                --min-interval)
                    COMPREPLY=("${cur}")
                    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
                        compopt -o nospace
                    fi
                    return 0
                    ;;
                --max-series)
                    COMPREPLY=("${cur}")
                    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
                        compopt -o nospace
                    fi
                    return 0
                    ;;
                --netns)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

# Values clap_complete cannot describe (generated from nlstat's code):
# --group-by keys, also after a comma; names in /run/netns for --netns;
# after the options, the filter words, and states after state/exclude.
_nlstat_takes_value() {
    case "$1" in
        -A|--protocol|--source|--pid-source|--view-source|--interval|--count|--record|--replay|--events-buffer|--group-by|--top|--sort|--serve|--textfile|--min-interval|--max-series|--netns) return 0 ;;
        --*) return 1 ;;
        -*A) return 0 ;;
    esac
    return 1
}

_nlstat() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="" before=""
    (( COMP_CWORD >= 1 )) && prev="${COMP_WORDS[COMP_CWORD-1]}"
    (( COMP_CWORD >= 2 )) && before="${COMP_WORDS[COMP_CWORD-2]}"
    if [[ $cur == = ]]; then
        cur=""
    elif [[ $prev == = ]]; then
        prev="$before"
        before=""
    fi
    case "$prev" in
        --group-by)
            local head=""
            [[ $cur == *,* ]] && head="${cur%,*},"
            COMPREPLY=($(compgen -P "$head" -W "proto family state local_addr local_port remote_addr remote_port remote_net uid user pid program netns" -- "${cur##*,}"))
            # a comma and another key may follow
            compopt -o nospace 2>/dev/null
            return 0
            ;;
        --netns)
            if [[ $cur == /* || $cur == .* ]]; then
                COMPREPLY=($(compgen -f -- "$cur"))
            else
                local names=(/run/netns/*)
                [[ -e ${names[0]} ]] || names=()
                COMPREPLY=($(compgen -W "${names[*]##*/}" -- "$cur"))
            fi
            return 0
            ;;
    esac
    if [[ $cur != -* ]] && (( COMP_CWORD > 1 )) && ! _nlstat_takes_value "$prev"; then
        case "$prev" in
            state|exclude|excl)
                if ! _nlstat_takes_value "$before"; then
                    COMPREPLY=($(compgen -W "established syn-sent syn-recv fin-wait-1 fin-wait-2 time-wait closed close-wait last-ack listening closing all connected synchronized bucket big" -- "$cur"))
                    return 0
                fi
                ;;
            src|dst|sport|dport)
                # an address or a port: nothing to offer
                COMPREPLY=()
                compopt +o default +o bashdefault 2>/dev/null
                return 0
                ;;
        esac
        COMPREPLY=($(compgen -W "state exclude src dst sport dport and or not" -- "$cur"))
        return 0
    fi
    _nlstat_options "$@"
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _nlstat -o nosort -o bashdefault -o default nlstat
else
    complete -F _nlstat -o bashdefault -o default nlstat
fi
