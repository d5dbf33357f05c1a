# jail CMD ARGS...: run CMD in a private mount namespace (unshare -m -r) where
# every mount is remounted read-only and only a fresh tmpfs at $JAIL is
# writable, so that a test can aim saferm at '/', '/usr' or $HOME for real
# and a bug still cannot delete anything of the machine it runs on.
# Inside, HOME and the XDG directories live in $JAIL, and $JAIL/vol is a
# second tmpfs (another filesystem, for topdir trashes).

# shellcheck disable=SC2016 # the script expands inside the namespace
jail() {
	JAIL="$BATS_TEST_TMPDIR/jail"
	mkdir -p "$JAIL"
	JAIL="$JAIL" unshare -m -r --propagation private bash -c '
		set -u
		while read -r _ _ _ _ mp _; do
			mp=$(printf "%b" "${mp//\\/\\0}")
			mount -o remount,bind,ro "$mp" 2> /dev/null || true
		done < /proc/self/mountinfo
		# Refuse to run anything unless every visible mount is read-only.
		while read -r _ _ _ _ mp opts _; do
			case ",$opts," in
			*,ro,*) ;;
			*) echo "jail: $mp is still writable" >&2; exit 99 ;;
			esac
		done < <(awk "{ last[\$5] = \$0 } END { for (m in last) print last[m] }" /proc/self/mountinfo)
		mount -t tmpfs -o size=64m,mode=0755 jail "$JAIL" || exit 99
		mkdir -p "$JAIL/home" "$JAIL/vol" "$JAIL/work"
		mount -t tmpfs -o size=16m,mode=0755 vol "$JAIL/vol" || exit 99
		# Sanitizer reports go to stderr: the test directory is read-only.
		export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1"
		export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
		export HOME="$JAIL/home"
		export XDG_DATA_HOME="$HOME/.local/share"
		export XDG_STATE_HOME="$HOME/.local/state"
		export XDG_CONFIG_HOME="$HOME/.config"
		cd "$JAIL/work" || exit 99
		exec "$@"' jail "$@"
}
