# bash completion for saferun. Its options mirror saferun --help;
# tests/completions.bats checks that they agree. Once the wrapped command
# starts (the first word that is not an option, or the word after "--"),
# its name is completed, then its arguments by its own completion.

_saferun() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local opts="--dry-run --confirm --sandbox --commit --net --timeout --full
		--ttl --json --config --color --help --version"
	local i start=0

	# Where the command starts. saferun stops reading options at the first
	# word that is not one, as env(1) and timeout(1) do.
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--)
			start=$((i + 1))
			break
			;;
		--confirm | --timeout | --ttl | --config) ((i++)) ;;
		-?*) ;;
		*)
			start=$i
			break
			;;
		esac
	done
	if ((!start)); then
		if ((i > COMP_CWORD)); then
			# The value of the option before.
			case $prev in
			--config)
				compopt -o filenames 2> /dev/null
				mapfile -t COMPREPLY < <(compgen -f -- "$cur")
				;;
			--timeout | --ttl)
				mapfile -t COMPREPLY < <(compgen -W "30s 5m 1h" -- "$cur")
				;;
			esac
			return
		fi
		case $cur in
		--color=*)
			mapfile -t COMPREPLY < <(compgen -P --color= -W "auto always never" -- "${cur#*=}")
			return
			;;
		-*)
			mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
			return
			;;
		esac
		# Not an option: the command word.
		start=$COMP_CWORD
	fi

	if ((COMP_CWORD == start)); then
		# The command's name: a command, or a path to one.
		[[ $cur != */* ]] || compopt -o filenames 2> /dev/null
		mapfile -t COMPREPLY < <(compgen -c -- "$cur")
	elif declare -F _command_offset > /dev/null; then
		# bash-completion: complete as if the command were typed alone.
		_command_offset "$start"
	else
		compopt -o filenames 2> /dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	fi
}

complete -F _saferun saferun
