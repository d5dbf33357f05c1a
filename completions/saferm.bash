# bash completion for saferm. Its options mirror saferm --help;
# tests/completions.bats checks that they agree.

_saferm() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local opts="--force --interactive --one-file-system --no-preserve-root
		--preserve-root --recursive --dir --verbose --permanent --dry-run
		--confirm --undo --list --restore --to --purge --older-than --json
		--config --color --help --version"
	local i

	# After "--" everything is a file.
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == -- ]]; then
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			return
		fi
	done
	case $prev in
	--config)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	--to)
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return
		;;
	--older-than)
		mapfile -t COMPREPLY < <(compgen -W "1d 7d 30d 90d" -- "$cur")
		return
		;;
	--confirm | --restore)
		return
		;;
	esac
	case $cur in
	--interactive=*)
		mapfile -t COMPREPLY < <(compgen -P --interactive= -W "never once always" -- "${cur#*=}")
		;;
	--preserve-root=*)
		mapfile -t COMPREPLY < <(compgen -P --preserve-root= -W "all" -- "${cur#*=}")
		;;
	--color=*)
		mapfile -t COMPREPLY < <(compgen -P --color= -W "auto always never" -- "${cur#*=}")
		;;
	-*)
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		;;
	*)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		;;
	esac
}

complete -o filenames -F _saferm saferm
