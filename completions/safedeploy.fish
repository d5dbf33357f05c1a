# fish completion for safedeploy. Options per command mirror the commands'
# --help; tests/completions.bats checks that they agree.

set -l cmds token config help
set -l token_cmds issue check redeem confirm

complete -c safedeploy -f
complete -c safedeploy -n "not __fish_seen_subcommand_from $cmds" -l help -s h -d 'show this help and exit'
complete -c safedeploy -n "not __fish_seen_subcommand_from $cmds" -l version -d 'print the version and exit'
complete -c safedeploy -l config -r -F -d 'read this configuration file last'
complete -c safedeploy -l color -x -a 'auto always never' -d 'colour: auto, always or never'
complete -c safedeploy -n "not __fish_seen_subcommand_from $cmds" -a token -d 'issue, check and redeem confirmation tokens'
complete -c safedeploy -n "not __fish_seen_subcommand_from $cmds" -a config -d 'show the merged configuration'
complete -c safedeploy -n "not __fish_seen_subcommand_from $cmds" -a help -d 'show the help of a command'
complete -c safedeploy -n "__fish_seen_subcommand_from help; and not __fish_seen_subcommand_from token config" -a 'token config'

complete -c safedeploy -n "__fish_seen_subcommand_from token; and not __fish_seen_subcommand_from $token_cmds" -a issue -d 'print a token bound to the plan'
complete -c safedeploy -n "__fish_seen_subcommand_from token; and not __fish_seen_subcommand_from $token_cmds" -a check -d 'check a token against the plan'
complete -c safedeploy -n "__fish_seen_subcommand_from token; and not __fish_seen_subcommand_from $token_cmds" -a redeem -d 'check a token and record it as used'
complete -c safedeploy -n "__fish_seen_subcommand_from token; and not __fish_seen_subcommand_from $token_cmds" -a confirm -d 'ask for confirmation of the plan'
complete -c safedeploy -n "__fish_seen_subcommand_from $token_cmds" -l plan -s p -r -F -d 'the plan (JSON; - for standard input)'
complete -c safedeploy -n "__fish_seen_subcommand_from issue confirm" -l ttl -x -a '30s 5m 15m 1h 1d' -d 'how long the token stays valid'
complete -c safedeploy -n "__fish_seen_subcommand_from confirm" -l summary -x -d 'what the plan does, shown before asking'
complete -c safedeploy -n "__fish_seen_subcommand_from confirm" -l confirm -x -d 'go ahead with this token instead of asking'
complete -c safedeploy -n "__fish_seen_subcommand_from $token_cmds config" -l json -d 'print one JSON document on standard output'
complete -c safedeploy -n "__fish_seen_subcommand_from $token_cmds config" -l help -s h -d 'show this help and exit'
complete -c safedeploy -n "__fish_seen_subcommand_from config" -l origin -d 'show where each value came from'
complete -c safedeploy -n "__fish_seen_subcommand_from config" -l keys -d 'list every key the suite knows'
