# Values clap_complete cannot describe (generated from nlstat's code).
function __nlstat_takes_value
    contains -- $argv[1] -A --protocol --source --pid-source --view-source --interval --count --record --replay --events-buffer --group-by --top --sort --serve --textfile --min-interval --max-series --netns; or string match -qr -- '^-[^-]*A$' $argv[1]
end

function __nlstat_group_by_keys
    # the keys given so far stay in front (state,<TAB>)
    set -l token (string replace -r -- '^--[^=]*=' '' (commandline -ct))
    set -l head (string replace -r -- '[^,]*$' '' $token)
    for key in proto family state local_addr local_port remote_addr remote_port remote_net uid user pid program netns
        echo $head$key
    end
end

function __nlstat_netns
    set -l token (commandline -ct)
    if string match -qr -- '^[/.]' $token
        __fish_complete_path $token
    else
        for name in /run/netns/*
            basename $name
        end
    end
end

function __nlstat_operand
    string match -q -- '-*' (commandline -ct); and return 1
    set -l words (commandline -opc)
    test (count $words) -ge 2; or return 1
    not __nlstat_takes_value $words[-1]
end

function __nlstat_filter_words
    set -l words (commandline -opc)
    if contains -- $words[-1] state exclude excl; and not __nlstat_takes_value $words[-2]
        printf '%s
' established syn-sent syn-recv fin-wait-1 fin-wait-2 time-wait closed close-wait last-ack listening closing all connected synchronized bucket big
    else if contains -- $words[-1] src dst sport dport
        return
    else
        printf '%s
' state exclude src dst sport dport and or not
    end
end

complete -c nlstat -s A -l protocol -d 'address families to list, comma-separated' -r -f -a "inet\t''
inet6\t''
unix\t''
ip\t''
ip6\t''
tcpip\t''
ipx\t''
ax25\t''
netrom\t''
x25\t''
rose\t''
ddp\t''
appletalk\t''
econet\t''
ash\t''
bluetooth\t''"
complete -c nlstat -l source -d 'socket tables from netlink (default) or proc' -r -f -a "netlink\t''
proc\t''"
complete -c nlstat -l pid-source -d 'where -p finds socket owners: auto, bpf or proc' -r -f -a "auto\t''
bpf\t''
proc\t''"
complete -c nlstat -l view-source -d 'where views count sockets: auto, bpf or netlink' -r -f -a "auto\t''
bpf\t''
netlink\t''"
complete -c nlstat -l interval -d 'repeat every SECONDS on a fixed schedule (implies -c)' -r -f
complete -c nlstat -l count -d 'stop after N ticks, status 0 (implies -c)' -r -f
complete -c nlstat -l record -d 'keep what each tick received from the kernel in FILE' -r -F
complete -c nlstat -l replay -d 'run over a recording instead of the kernel' -r -F
complete -c nlstat -l events-buffer -d 'receive buffer for --events (default 64M as root)' -r -f
complete -c nlstat -l group-by -d 'count sockets per distinct tuple of KEYS' -r -f -a "(__nlstat_group_by_keys)"
complete -c nlstat -l top -d 'keep the first N rows of --group-by' -r -f
complete -c nlstat -l sort -d 'order --group-by\'s rows by FIELD, largest first' -r -f
complete -c nlstat -l serve -d 'serve Prometheus metrics on [ADDR:]PORT (127.0.0.1 without ADDR)' -r -f
complete -c nlstat -l textfile -d 'write the metrics to PATH (every tick with -c)' -r -F
complete -c nlstat -l min-interval -d 'with --serve, reuse a collection for SECONDS (default 1)' -r -f
complete -c nlstat -l max-series -d 'ephemeral-port pairs to export (default 100)' -r -f
complete -c nlstat -l netns -d 'run in a network namespace (name or path)' -r -f -a "(__nlstat_netns)"
complete -c nlstat -s C -l cache -d 'display routing cache instead of FIB'
complete -c nlstat -s F -l fib -d 'display Forwarding Information Base (default)'
complete -c nlstat -s M -l masquerade -d 'display masqueraded connections'
complete -c nlstat -s a -l all -d 'display all sockets (default: connected)'
complete -c nlstat -s c -l continuous -d 'continuous listing'
complete -c nlstat -s d -d 'accepted, as netstat accepts it; no effect'
complete -c nlstat -s e -l extend -d 'display other/more information'
complete -c nlstat -s g -l groups -d 'display multicast group memberships'
complete -c nlstat -s h -l help -d 'print the usage text'
complete -c nlstat -s i -l interfaces -d 'display interface table'
complete -c nlstat -s l -l listening -d 'display listening server sockets'
complete -c nlstat -s n -l numeric -d 'don\'t resolve names'
complete -c nlstat -l numeric-hosts -d 'don\'t resolve host names'
complete -c nlstat -l numeric-ports -d 'don\'t resolve port names'
complete -c nlstat -l numeric-users -d 'don\'t resolve user names'
complete -c nlstat -s N -l symbolic -d 'resolve hardware names'
complete -c nlstat -s o -l timers -d 'display timers'
complete -c nlstat -s p -l programs -l program -d 'display PID/Program name for sockets'
complete -c nlstat -s r -l route -d 'display routing table'
complete -c nlstat -s s -l statistics -d 'display networking statistics (like SNMP)'
complete -c nlstat -s S -l sctp -d 'SCTP sockets'
complete -c nlstat -s t -l tcp -d 'TCP sockets'
complete -c nlstat -s u -l udp -d 'UDP sockets'
complete -c nlstat -s U -l udplite -d 'UDP-Lite sockets'
complete -c nlstat -s v -l verbose -d 'be verbose'
complete -c nlstat -s V -l version -d 'print nlstat\'s version'
complete -c nlstat -s W -l wide -d 'don\'t truncate IP addresses'
complete -c nlstat -s T -l notrim -d 'the same as -W'
complete -c nlstat -s w -l raw -d 'raw sockets'
complete -c nlstat -s x -l unix -d 'unix domain sockets'
complete -c nlstat -s 6 -l inet6 -d 'IPv6 only (the inet6 family)'
complete -c nlstat -s 4 -l inet -d 'IPv4 only (the inet family)'
complete -c nlstat -s 2 -l l2cap -d 'Bluetooth L2CAP sockets, answered as netstat answers without them'
complete -c nlstat -s f -l rfcomm -d 'Bluetooth RFCOMM sockets, answered as netstat answers without them'
complete -c nlstat -s Z -l context -d 'display SELinux security context for sockets'
complete -c nlstat -l ax25 -d 'the same as -A ax25'
complete -c nlstat -l ip -d 'the same as -A inet'
complete -c nlstat -l ipx -d 'the same as -A ipx'
complete -c nlstat -l appletalk -d 'the same as -A ddp'
complete -c nlstat -l netrom -d 'the same as -A netrom'
complete -c nlstat -l ddp -d 'the same as -A ddp'
complete -c nlstat -l tcpip -d 'the same as -A inet'
complete -c nlstat -l econet -d 'the same as -A econet'
complete -c nlstat -l x25 -d 'the same as -A x25'
complete -c nlstat -l rose -d 'the same as -A rose'
complete -c nlstat -l ash -d 'the same as -A ash'
complete -c nlstat -l bluetooth -d 'the same as -A bluetooth'
complete -c nlstat -l json -d 'JSON Lines: one object per row, no headers'
complete -c nlstat -l info -d 'tcp_info, congestion control and socket memory of each socket'
complete -c nlstat -l quiet -d 'with --record, print nothing'
complete -c nlstat -l events -d 'print TCP and UDP sockets as the kernel closes them'
complete -c nlstat -l live -d 'a full-screen view that refreshes every --interval (default 1 s)'
complete -c nlstat -l summary -d 'socket counts per protocol, family and state'
complete -c nlstat -l listeners -d 'TCP listeners: accept queues and connections'
complete -c nlstat -l ephemeral -d 'ephemeral port use per remote address and port'
complete -c nlstat -l all-netns -d 'every network namespace, one after another'
complete -c nlstat -n __nlstat_operand -f -a "(__nlstat_filter_words)" -d 'filter word'
