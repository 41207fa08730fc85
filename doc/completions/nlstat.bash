_nlstat() {
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
            opts="-A -C -F -M -a -c -d -e -g -h -i -l -n -N -o -p -r -s -S -t -u -U -v -V -W -T -w -x -6 -4 -2 -f -Z --protocol --cache --fib --masquerade --all --continuous --extend --groups --help --interfaces --listening --numeric --numeric-hosts --numeric-ports --numeric-users --symbolic --timers --program --programs --route --statistics --sctp --tcp --udp --udplite --verbose --version --wide --notrim --raw --unix --inet6 --inet --l2cap --rfcomm --context --ax25 --ip --ipx --appletalk --netrom --ddp --tcpip --econet --x25 --rose --ash --bluetooth --source --pid-source --json --group-by --top --summary --listeners --ephemeral --serve --textfile --min-interval --max-series --netns --all-netns"
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
                --group-by)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --top)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --serve)
                    COMPREPLY=($(compgen -f "${cur}"))
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
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-series)
                    COMPREPLY=($(compgen -f "${cur}"))
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

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _nlstat -o nosort -o bashdefault -o default nlstat
else
    complete -F _nlstat -o bashdefault -o default nlstat
fi
