# fish completion for saferun. Its options mirror saferun --help;
# tests/completions.bats checks that they agree. Once the wrapped command
# starts (the first word that is not an option, or the word after "--"),
# its name is completed, then its arguments by its own completion.

# The wrapped command's words so far, the one being typed last, NUL
# separated; false while saferun's own options are being typed.
function __saferun_command_words
    set -l words (commandline -opc)
    # Quoted: an empty word being typed is still a word.
    set -a words "$(commandline -ct)"
    set -e words[1]
    set -l n (count $words)
    set -l i 1
    while test $i -lt $n
        switch $words[$i]
            case --
                set i (math $i + 1)
                string join0 -- $words[$i..-1]
                return 0
            case --confirm --timeout --ttl --config
                set i (math $i + 1)
            case '-?*'
            case '*'
                string join0 -- $words[$i..-1]
                return 0
        end
        set i (math $i + 1)
    end
    # The word being typed: an option, an option's value, or the command.
    test $i -eq $n
    or return 1
    string match -q -- '-*' $words[$n]
    and return 1
    string join0 -- $words[$n]
    return 0
end

function __saferun_complete_command
    set -l words (__saferun_command_words | string split0)
    if set -q words[2]
        __fish_complete_subcommand --commandline $words
    else
        # The command's name (__fish_complete_subcommand would take an
        # empty one for none and read the command line itself).
        complete -C "$words"
    end
end

set -l opts 'not __saferun_command_words >/dev/null'

complete -c saferun -f
complete -c saferun -n $opts -s n -l dry-run -d 'show the plan and the token to run it; run nothing'
complete -c saferun -n $opts -l confirm -x -d 'run: the token for this exact plan'
complete -c saferun -n $opts -l sandbox -d 'find the effects in the sandbox, even for a known command'
complete -c saferun -n $opts -l commit -d 'apply what the last sandbox run of this command changed'
complete -c saferun -n $opts -l net -d 'keep the network in the sandbox'
complete -c saferun -n $opts -l timeout -x -a '30s 5m 1h' -d 'kill the sandbox run or a dry run after DURATION'
complete -c saferun -n $opts -l full -d 'list every path, not the summary'
complete -c saferun -n $opts -l ttl -x -a '30s 5m 1h' -d 'how long an issued token stays valid (default 5m)'
complete -c saferun -n $opts -l json -d 'print one JSON document on standard output'
complete -c saferun -n $opts -l config -r -F -d 'read this configuration file last'
complete -c saferun -n $opts -l color -f -a 'auto always never' -d 'colour: auto, always or never'
complete -c saferun -n $opts -s h -l help -d 'show this help and exit'
complete -c saferun -n $opts -l version -d 'print the version and exit'
complete -c saferun -n '__saferun_command_words >/dev/null' -x -a '(__saferun_complete_command)'
