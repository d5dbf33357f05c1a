#!/usr/bin/env bats
# Completions for bash, zsh and fish: they complete commands and options, and
# they offer exactly the options each command's --help lists.

load helpers/common

# Options a command's --help lists, one per line, sorted: PROG ARGS...
prog_help_options() {
	"$@" --help | sed -n '/^Options:/,$p' | grep -o -- '--[a-z][a-z0-9-]*' | sort -u
}
help_options() { prog_help_options safedeploy "$@"; }

# What bash completion offers for: PROG WORDS... CUR
prog_bash_complete() {
	bash -c '
		source "$1/completions/$2.bash"
		prog=$2
		shift 2
		COMP_WORDS=("$prog" "$@")
		COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
		"_$prog"
		printf "%s\n" "${COMPREPLY[@]}"
	' _ "$REPO_ROOT" "$@" | sort -u
}
bash_complete() { prog_bash_complete safedeploy "$@"; }

fish_complete() {
	fish --no-config -c "source $REPO_ROOT/completions/safedeploy.fish; complete -C '$*'" |
		cut -f1 | sort -u
}

@test "completions: bash completes commands, token commands and files" {
	run -0 bash_complete ""
	assert_output "$(printf 'config\nflags\nhelp\nhook\nprobe\ntoken\nverify')"
	run -0 bash_complete probe ""
	assert_output "$(printf 'independence\nmerge\nrun')"
	run -0 bash_complete flags ""
	assert_output "timeline"
	run -0 bash_complete flags --history t
	assert_output "timeline"
	run -0 bash_complete hook ""
	assert_output "$(printf 'install\npre-commit\npre-push')"
	run -0 bash_complete hook pre-p
	assert_output "pre-push"
	run -0 bash_complete help ""
	assert_output "$(printf 'config\nflags\nhook\nprobe\ntoken\nverify')"
	run -0 bash_complete help flags ""
	assert_output "timeline"
	run -0 bash_complete token ""
	assert_output "$(printf 'check\nconfirm\nissue\nredeem')"
	run -0 bash_complete token re
	assert_output "redeem"
	run -0 bash_complete --config x.yml to
	assert_output "token"
	touch myplan.json
	run -0 bash_complete token issue --plan my
	assert_output "myplan.json"
	run -0 bash_complete flags --sarif my
	assert_output "myplan.json"
	mkdir myrepo
	run -0 bash_complete flags -C my
	assert_output "myrepo"
	run -0 bash_complete hook install --directory my
	assert_output "myrepo"
	run -0 bash_complete --color=
	assert_output "$(printf -- '--color=always\n--color=auto\n--color=never')"
}

@test "completions: bash offers exactly the options of each --help" {
	local sub
	for sub in issue check redeem confirm; do
		assert_equal "$(bash_complete token "$sub" --)" "$(help_options token "$sub")"
	done
	assert_equal "$(bash_complete config --)" "$(help_options config)"
	assert_equal "$(bash_complete verify --)" "$(help_options verify)"
	assert_equal "$(bash_complete probe run --)" "$(help_options probe run)"
	assert_equal "$(bash_complete probe independence --)" "$(help_options probe independence)"
	assert_equal "$(bash_complete probe merge --)" "$(help_options probe merge)"
	assert_equal "$(bash_complete flags --)" "$(help_options flags)"
	assert_equal "$(bash_complete flags --history --)" "$(help_options flags)"
	assert_equal "$(bash_complete flags timeline --)" "$(help_options flags timeline)"
	assert_equal "$(bash_complete hook --)" "$(help_options hook)"
	# After the hook's name, those of its options that apply to it.
	for sub in install pre-commit pre-push; do
		assert_equal "$(comm -23 <(bash_complete hook "$sub" --) <(help_options hook))" ""
	done
	assert_equal "$(bash_complete hook install --)" "$(printf -- '--directory\n--force\n--help')"
	assert_equal "$(bash_complete --)" "$(safedeploy --help | sed -n '/^Options:/,$p' | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)"
}

@test "completions: fish offers exactly the options of each --help" {
	local sub
	run -0 fish_complete "safedeploy "
	assert_output "$(printf 'config\nflags\nhelp\nhook\nprobe\ntoken\nverify')"
	run -0 fish_complete "safedeploy probe "
	assert_output "$(printf 'independence\nmerge\nrun')"
	run -0 fish_complete "safedeploy flags "
	assert_output "timeline"
	run -0 fish_complete "safedeploy hook "
	assert_output "$(printf 'install\npre-commit\npre-push')"
	run -0 fish_complete "safedeploy token "
	assert_output "$(printf 'check\nconfirm\nissue\nredeem')"
	for sub in issue check redeem confirm; do
		assert_equal "$(fish_complete "safedeploy token $sub --" | grep -- '^--')" \
			"$(help_options token "$sub")"
	done
	assert_equal "$(fish_complete "safedeploy config --" | grep -- '^--')" "$(help_options config)"
	assert_equal "$(fish_complete "safedeploy verify --" | grep -- '^--')" "$(help_options verify)"
	assert_equal "$(fish_complete "safedeploy probe run --" | grep -- '^--')" "$(help_options probe run)"
	assert_equal "$(fish_complete "safedeploy probe independence --" | grep -- '^--')" "$(help_options probe independence)"
	assert_equal "$(fish_complete "safedeploy probe merge --" | grep -- '^--')" "$(help_options probe merge)"
	assert_equal "$(fish_complete "safedeploy flags --" | grep -- '^--')" "$(help_options flags)"
	assert_equal "$(fish_complete "safedeploy flags timeline --" | grep -- '^--')" "$(help_options flags timeline)"
	assert_equal "$(fish_complete "safedeploy hook --" | grep -- '^--')" "$(help_options hook)"
	for sub in install pre-commit pre-push; do
		assert_equal "$(comm -23 <(fish_complete "safedeploy hook $sub --" | grep -- '^--') <(help_options hook))" ""
	done
	assert_equal "$(fish_complete "safedeploy hook install --" | grep -- '^--')" \
		"$(printf -- '--color\n--config\n--directory\n--force\n--help')"
}

@test "completions: zsh loads and names every option of each --help" {
	run -0 zsh -n "$REPO_ROOT/completions/_safedeploy"
	run -0 zsh -fc "autoload -U compinit && compinit -u -d $BATS_TEST_TMPDIR/zcomp && fpath=($REPO_ROOT/completions \$fpath) && autoload -U _safedeploy && whence -w _safedeploy"
	local opt
	for opt in $( { help_options token issue; help_options token confirm; help_options config; help_options verify; help_options probe run; help_options probe independence; help_options probe merge; help_options flags; help_options flags timeline; help_options hook; } | sort -u); do
		grep -qE -- "$opt(=-)?(\[|\}'\[)" "$REPO_ROOT/completions/_safedeploy" || fail "zsh completion lacks $opt"
	done
}

saferm_help_options() { prog_help_options saferm; }
saferm_bash_complete() { prog_bash_complete saferm "$@"; }

@test "completions: saferm's bash, fish and zsh completions offer exactly its --help options" {
	assert_equal "$(saferm_bash_complete --)" "$(saferm_help_options)"
	assert_equal "$(fish --no-config -c "source $REPO_ROOT/completions/saferm.fish; complete -C 'saferm --'" | cut -f1 | sort -u)" \
		"$(saferm_help_options)"
	run -0 zsh -n "$REPO_ROOT/completions/_saferm"
	local opt
	for opt in $(saferm_help_options); do
		grep -qE -- "$opt(=-)?(\[|\}'\[)" "$REPO_ROOT/completions/_saferm" || fail "zsh completion lacks $opt"
	done
}

@test "completions: saferm completes files, directories for --to, values for --interactive=" {
	touch afile
	mkdir adir
	run -0 saferm_bash_complete a
	assert_output "$(printf 'adir\nafile')"
	run -0 saferm_bash_complete --restore x --to a
	assert_output "adir"
	run -0 saferm_bash_complete --interactive=
	assert_output "$(printf -- '--interactive=always\n--interactive=never\n--interactive=once')"
	run -0 saferm_bash_complete -- --
	assert_output ""
}

saferun_help_options() { prog_help_options saferun; }
saferun_bash_complete() { prog_bash_complete saferun "$@"; }

# What fish offers for the command line "$*" (fish's own completions on the
# path, so that saferun can hand a command's words to them).
saferun_fish_complete() {
	fish --no-config -c "set fish_complete_path \$__fish_data_dir/completions
		source $REPO_ROOT/completions/saferun.fish; complete -C '$*'" | cut -f1 | sort -u
}

BASH_COMPLETION=/usr/share/bash-completion/bash_completion

# As saferun_bash_complete, with bash-completion loaded first, as an
# interactive shell has it. compopt works only under readline: a no-op here.
saferun_bash_complete_bc() {
	bash -c '
		source "$1"
		compopt() { :; }
		source "$2/completions/saferun.bash"
		shift 2
		COMP_WORDS=(saferun "$@")
		COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
		COMP_LINE="${COMP_WORDS[*]}"
		COMP_POINT=${#COMP_LINE}
		_saferun
		printf "%s\n" "${COMPREPLY[@]}"
	' _ "$BASH_COMPLETION" "$REPO_ROOT" "$@" | sort -u
}

@test "completions: saferun's bash, fish and zsh completions offer exactly its --help options" {
	assert_equal "$(saferun_bash_complete --)" "$(saferun_help_options)"
	assert_equal "$(saferun_bash_complete -n --config x.yml --)" "$(saferun_help_options)"
	# fish offers --color both bare and as --color= (its value only goes there).
	assert_equal "$(saferun_fish_complete 'saferun --' | sed 's/=$//' | sort -u)" "$(saferun_help_options)"
	run -0 zsh -n "$REPO_ROOT/completions/_saferun"
	run -0 zsh -fc "autoload -U compinit && compinit -u -d $BATS_TEST_TMPDIR/zcomp && fpath=($REPO_ROOT/completions \$fpath) && autoload -U _saferun && whence -w _saferun"
	local opt
	for opt in $(saferun_help_options); do
		grep -qE -- "$opt(=-)?(\[|\}'\[)" "$REPO_ROOT/completions/_saferun" || fail "zsh completion lacks $opt"
	done
}

@test "completions: saferun completes option values, then the command's name" {
	touch afile
	run -0 saferun_bash_complete --timeout ""
	assert_output "$(printf '1h\n30s\n5m')"
	run -0 saferun_bash_complete --ttl 3
	assert_output "30s"
	run -0 saferun_bash_complete --color=
	assert_output "$(printf -- '--color=always\n--color=auto\n--color=never')"
	run -0 saferun_bash_complete --config a
	assert_output "afile"
	run -0 saferun_bash_complete --confirm ""
	assert_output ""
	# The first word that is not an option, or the word after "--".
	run -0 saferun_bash_complete -- gi
	assert_line git
	run -0 saferun_bash_complete gi
	assert_line git
	run -0 saferun_bash_complete -n --timeout 5m --confirm x gi
	assert_line git
	run -0 saferun_fish_complete "saferun -- gi"
	assert_line git
	run -0 saferun_fish_complete "saferun --config x.yml gi"
	assert_line git
	run -0 saferun_bash_complete --config x.yml gi
	assert_line git
	run -0 saferun_fish_complete "saferun --ttl "
	assert_output "$(printf '1h\n30s\n5m')"
	# --color takes its value only after "=": the next word is the command.
	run -0 saferun_fish_complete "saferun --color gi"
	assert_line git
	run -0 saferun_bash_complete --color gi
	assert_line git
}

@test "completions: saferun hands the command's arguments to the command's completion" {
	touch afile
	# After the command, saferun's own options are not offered.
	run -0 saferun_bash_complete rm --d
	assert_output ""
	run -0 saferun_fish_complete "saferun rm --d"
	refute_line -- --dry-run
	# Without bash-completion: files.
	run -0 saferun_bash_complete -- ls a
	assert_output "afile"
	# With it: the command's own completion.
	[ -r "$BASH_COMPLETION" ] || skip "bash-completion is not installed"
	run -0 saferun_bash_complete_bc -- ls a
	assert_output "afile"
	run -0 saferun_bash_complete_bc -- gi
	assert_line git
	if bash -c 'source "$1" && complete -p ls' _ "$BASH_COMPLETION" > /dev/null 2>&1; then
		run -0 saferun_bash_complete_bc -- ls --al
		assert_line -- --all
		run -0 saferun_bash_complete_bc -n ls --al
		assert_line -- --all
	fi
	if [ -r /usr/share/fish/completions/ls.fish ]; then
		run -0 saferun_fish_complete "saferun -- ls --al"
		assert_line -- --all
	fi
}
