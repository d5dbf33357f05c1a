#!/usr/bin/env bats
# safedeploy flags and safedeploy hook against real git repositories built
# here with fixed dates: the Knight pattern, reverts, renames, dead and
# undefined flags, presets, the history cache, bad input, SARIF, the staged
# check, the git hooks and the pre-commit framework.

load helpers/common

setup() {
	common_setup
	unset SAFEDEPLOY GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE
	export GIT_CONFIG_NOSYSTEM=1
	export PRE_COMMIT_HOME="$BATS_TEST_TMPDIR/pre-commit-home"
	# HOME is private (common_setup): this is the only git configuration.
	cat > "$HOME/.gitconfig" <<-EOF
		[user]
			name = Ann Dev
			email = ann@example.com
		[init]
			defaultBranch = main
		[commit]
			gpgsign = false
		[advice]
			detachedHead = false
		[protocol "file"]
			allow = always
	EOF
}

# commit DATE SUBJECT: stage everything and commit it, authored and
# committed at DATE (ISO 8601), with that subject.
commit() {
	git add -A
	GIT_AUTHOR_DATE="$1" GIT_COMMITTER_DATE="$1" git commit -q -m "$2"
}

# The configuration most tests use: Go constants in flags*.go are
# definitions, enabled(NAME) in any Go file is a reference. Extra lines
# (already indented under flags:) are appended.
go_config() {
	{
		echo 'flags:'
		echo '  define:'
		echo '    - paths: ["flags*.go"]'
		echo "      pattern: '^\\s*const\\s+(\\w+)\\s*='"
		echo '  reference:'
		echo '    - paths: ["*.go"]'
		echo "      pattern: 'enabled\\((\\w+)\\)'"
		printf '%s\n' "$@"
	} > .safedeploy.yml
}

# defs FILE NAME...: a Go file defining these flags, the first on line 2,
# column 7.
defs() {
	local f=$1 n
	shift
	{
		echo 'package main'
		for n in "$@"; do echo "const $n = true"; done
	} > "$f"
}

# uses FILE NAME...: a Go file referencing these flags, the first on line 3,
# column 13.
uses() {
	local f=$1 n
	shift
	{
		echo 'package main'
		echo 'func run() {'
		for n in "$@"; do printf '\tif enabled(%s) {\n\t\tgo()\n\t}\n' "$n"; done
		echo '}'
	} > "$f"
}

# Knight Capital: POWER_PEG defined (A), its definition removed but the
# code that uses it kept (B), and six years later defined again with a new
# meaning (C). Sets A, B and C to the full commit ids.
knight_repo() {
	git init -q knight
	cd knight || return 1
	go_config
	defs flags.go POWER_PEG
	uses peg.go POWER_PEG
	commit 2005-01-01T10:00:00Z "Add Power Peg"
	A=$(git rev-parse HEAD)
	defs flags.go
	commit 2006-03-01T10:00:00Z "Retire Power Peg"
	B=$(git rev-parse HEAD)
	defs flags.go POWER_PEG
	commit 2012-07-27T10:00:00Z "Repurpose POWER_PEG for SMARS"
	C=$(git rev-parse HEAD)
}

cache_file() {
	local f
	for f in .git/safedeploy/flags-*.json; do
		[ -e "$f" ] && echo "$f"
	done
}

# ---------------------------------------------------------------------------
# History: the Knight pattern, reverts, renames

@test "flags: the Knight pattern is resurrected, an error naming both commits" {
	knight_repo
	run -1 --separate-stderr safedeploy flags --history
	assert_equal "$stderr" ""
	assert_line --regexp "^error +resurrected +POWER_PEG +flags.go:2:7 +flag 'POWER_PEG' was removed in "
	assert_output --partial "removed in ${B:0:10} (2006-03-01, \"Retire Power Peg\")"
	assert_output --partial "defined again in ${C:0:10} (2012-07-27, \"Repurpose POWER_PEG for SMARS\"), 2340 days later"
	assert_output --partial "code that used it was never removed"
	assert_line --regexp "^1 error, [0-9]+ warnings?: 1 flag in 2 files, 3 commits of history$"
	# Without history the same tree is clean: the finding comes from history.
	run -0 safedeploy flags
	assert_output "0 errors, 0 warnings: 1 flag in 2 files"
}

@test "flags: timeline lists born, extinct and born-again with commits and subjects" {
	knight_repo
	run -0 --separate-stderr safedeploy flags timeline POWER_PEG
	assert_equal "$stderr" ""
	assert_equal "${lines[0]}" "POWER_PEG: 1 definition and 1 reference at ${C:0:12}"
	assert_line --index 1 --regexp "^${A:0:10}  2005-01-01  definition  born +flags.go +Add Power Peg \(Ann Dev\)$"
	assert_line --index 2 --regexp "^${A:0:10}  2005-01-01  reference   born +peg.go +Add Power Peg \(Ann Dev\)$"
	assert_line --index 3 --regexp "^${B:0:10}  2006-03-01  definition  extinct +flags.go +Retire Power Peg \(Ann Dev\)$"
	assert_line --index 4 --regexp "^${C:0:10}  2012-07-27  definition  born-again +flags.go +Repurpose POWER_PEG for SMARS \(Ann Dev\)$"
	assert_equal "${#lines[@]}" 5
	# The references never went extinct: the old code stayed armed.
	refute_line --regexp "reference +extinct"
	run -0 safedeploy flags timeline --json POWER_PEG
	jq -e --arg a "$A" --arg b "$B" --arg c "$C" '
		.version == 1 and .flag == "POWER_PEG" and .definitions == 1 and .references == 1
		and ([.events[] | [.commit, .kind, .type]] == [
			[$a, "definition", "born"], [$a, "reference", "born"],
			[$b, "definition", "extinct"], [$c, "definition", "born-again"]])
		and .events[3].subject == "Repurpose POWER_PEG for SMARS"
		and .events[3].date == "2012-07-27T10:00:00Z" and .events[3].author == "Ann Dev"' <<< "$output"
	run -1 --separate-stderr safedeploy flags timeline NEVER_SEEN
	assert_equal "$output" ""
	assert_regex "$stderr" "flag 'NEVER_SEEN' does not appear in the history of ${C:0:12}"
}

@test "flags: --json has the resurrected finding with kind, severity and both commits" {
	knight_repo
	run -1 --separate-stderr safedeploy flags --history --json
	jq -e --arg b "$B" --arg c "$C" '
		.version == 1
		and ([.findings[] | select(.kind == "resurrected")] | length == 1)
		and (.findings[] | select(.kind == "resurrected")
			| .severity == "error" and .flag == "POWER_PEG"
			and .path == "flags.go" and .line == 2 and .column == 7
			and .removed.commit == $b and .removed.subject == "Retire Power Peg"
			and .removed.date == "2006-03-01T10:00:00Z"
			and ."defined-again".commit == $c and ."gap-days" == 2340)
		and .history.commits == 3 and .history.tip == $c and .history.shallow == false' <<< "$output"
}

@test "flags: a quick revert (back 2 days later) is a warning, exit 0" {
	git init -q repo && cd repo
	go_config '  max-age: 100000d'
	defs flags.go NEW_UI
	uses ui.go NEW_UI
	commit 2024-01-01T10:00:00Z "Add NEW_UI"
	defs flags.go
	commit 2024-01-10T10:00:00Z "Remove NEW_UI"
	defs flags.go NEW_UI
	commit 2024-01-12T10:00:00Z "Bring NEW_UI back"
	run -0 --separate-stderr safedeploy flags --history
	assert_line --regexp "^warning +resurrected +NEW_UI +flags.go:2:7 +.*2 days later.*\(within the revert window\)$"
	assert_line "0 errors, 1 warning: 1 flag in 2 files, 3 commits of history"
	# The window is configurable: with a 1-day window it is an error.
	go_config '  max-age: 100000d' '  revert-window: 1d'
	run -1 safedeploy flags --history
	assert_line --regexp "^error +resurrected +NEW_UI "
}

@test "flags: a removal by a Revert commit, re-landed months later, is a warning" {
	git init -q repo && cd repo
	go_config '  max-age: 100000d'
	defs flags.go NEW_UI
	uses ui.go NEW_UI
	commit 2024-01-01T10:00:00Z "Add NEW_UI"
	defs flags.go
	commit 2024-01-10T10:00:00Z 'Revert "Add NEW_UI"'
	defs flags.go NEW_UI
	commit 2024-06-12T10:00:00Z "Reland NEW_UI"
	run -0 safedeploy flags --history
	assert_line --regexp "^warning +resurrected +NEW_UI +.*154 days later.*\(its removal was a revert: the change is landing again\)$"
	# The same history without the Revert subject is a resurrection.
	git init -q ../plain && cd ../plain
	go_config '  max-age: 100000d'
	defs flags.go NEW_UI
	uses ui.go NEW_UI
	commit 2024-01-01T10:00:00Z "Add NEW_UI"
	defs flags.go
	commit 2024-01-10T10:00:00Z "Remove NEW_UI"
	defs flags.go NEW_UI
	commit 2024-06-12T10:00:00Z "Reland NEW_UI"
	run -1 safedeploy flags --history
	assert_line --regexp "^error +resurrected +NEW_UI "
}

@test "flags: a move or rename in one commit is not a resurrection" {
	git init -q repo && cd repo
	go_config '  max-age: 100000d'
	defs flags.go A B
	uses use.go A B
	commit 2020-01-01T10:00:00Z "Add A and B"
	defs flags.go B
	defs flags2.go A
	commit 2022-01-01T10:00:00Z "Move A to flags2.go"
	git mv flags.go flags3.go
	commit 2023-01-01T10:00:00Z "Rename flags.go"
	mkdir sub && git mv flags2.go sub/flags2.go
	commit 2023-02-01T10:00:00Z "Move flags2.go into sub/"
	run -0 --separate-stderr safedeploy flags --history
	assert_output "0 errors, 0 warnings: 2 flags in 3 files, 4 commits of history"
	for f in A B; do
		run -0 safedeploy flags timeline "$f"
		assert_equal "${#lines[@]}" 3
		refute_output --partial "born-again"
		refute_output --partial "extinct"
	done
	# Removed in one commit and added back in the next is an event.
	defs sub/flags2.go
	commit 2023-03-01T10:00:00Z "Drop A"
	defs sub/flags2.go A
	commit 2024-03-01T10:00:00Z "Add A again"
	run -1 safedeploy flags --history
	assert_line --regexp "^error +resurrected +A +sub/flags2.go:2:7 "
}

# ---------------------------------------------------------------------------
# The working tree: dead and undefined

@test "flags: dead and undefined flags of the working tree with file:line:column, exit 1" {
	git init -q repo && cd repo
	go_config
	defs flags.go USED
	uses use.go USED
	commit 2024-01-01T10:00:00Z "init"
	run -0 safedeploy flags
	assert_output "0 errors, 0 warnings: 1 flag in 2 files"
	defs flags.go USED DEAD_ONE
	uses ghost.go GHOST
	run -1 --separate-stderr safedeploy flags
	assert_equal "$stderr" ""
	assert_line --index 0 --regexp "^SEVERITY +KIND +FLAG +WHERE +WHAT$"
	assert_line --regexp "^error +dead +DEAD_ONE +flags.go:3:7 +flag 'DEAD_ONE' is defined but never referenced$"
	assert_line --regexp "^error +undefined +GHOST +ghost.go:3:13 +flag 'GHOST' is referenced but never defined$"
	assert_line "2 errors, 0 warnings: 3 flags in 3 files"
	run -1 safedeploy flags --json
	jq -e '
		.version == 1 and (.findings | length) == 2
		and (.findings[] | select(.kind == "dead") | .flag == "DEAD_ONE" and .severity == "error"
			and .path == "flags.go" and .line == 3 and .column == 7
			and .locations == [{"path": "flags.go", "line": 3, "column": 7}])
		and (.findings[] | select(.kind == "undefined") | .flag == "GHOST"
			and .path == "ghost.go" and .line == 3 and .column == 13)
		and .scanned.files == 3 and .scanned.flags == 3' <<< "$output"
}

@test "flags: --rev REV reads that commit, not the working tree" {
	git init -q repo && cd repo
	go_config
	defs flags.go USED
	uses use.go USED
	commit 2024-01-01T10:00:00Z "clean"
	defs flags.go USED DEAD_ONE
	commit 2024-01-02T10:00:00Z "add a dead flag"
	# The working tree fixes it, uncommitted.
	uses use.go USED DEAD_ONE
	run -0 safedeploy flags
	run -1 safedeploy flags --rev HEAD
	assert_line --regexp "^error +dead +DEAD_ONE +flags.go:3:7 "
	run -0 safedeploy flags --rev HEAD~1
	assert_output "0 errors, 0 warnings: 1 flag in 2 files"
	run -4 --separate-stderr safedeploy flags --rev no-such-rev
	assert_regex "$stderr" "no-such-rev"
}

@test "flags: untracked files are read, ignored ones are not" {
	git init -q repo && cd repo
	go_config
	defs flags.go USED
	uses use.go USED
	echo 'generated/' > .gitignore
	commit 2024-01-01T10:00:00Z "init"
	mkdir -p generated new
	uses generated/ignored.go IGNORED_GHOST
	uses new/untracked.go UNTRACKED_GHOST
	run -1 safedeploy flags
	assert_line --regexp "^error +undefined +UNTRACKED_GHOST +new/untracked.go:3:13 "
	refute_output --partial "IGNORED_GHOST"
	assert_line "1 error, 0 warnings: 2 flags in 3 files"
}

# ---------------------------------------------------------------------------
# Policy: stale, severities, retired names, aliases

@test "flags: stale is a warning naming max-age; max-age and severity silence it" {
	git init -q repo && cd repo
	go_config
	defs flags.go OLD_FLAG
	uses use.go OLD_FLAG
	commit 2012-01-01T10:00:00Z "Add OLD_FLAG"
	old=$(git rev-parse HEAD)
	run -0 --separate-stderr safedeploy flags --history
	assert_line --regexp "^warning +stale +OLD_FLAG +flags.go:2:7 +flag 'OLD_FLAG' has been defined for [0-9]+ days, since ${old:0:10} \(2012-01-01, \"Add OLD_FLAG\"\); max-age is 90 days$"
	assert_line "0 errors, 1 warning: 1 flag in 2 files, 1 commit of history"
	run -0 safedeploy flags --history --json
	jq -e --arg old "$old" '.findings[0] | .kind == "stale" and .severity == "warning"
		and .defined.commit == $old and ."age-days" > 4000' <<< "$output"
	go_config '  max-age: 100000d'
	run -0 safedeploy flags --history
	assert_output "0 errors, 0 warnings: 1 flag in 2 files, 1 commit of history"
	go_config '  severity:' '    stale: off'
	run -0 safedeploy flags --history
	assert_output "0 errors, 0 warnings: 1 flag in 2 files, 1 commit of history"
	go_config '  max-age: 30d' '  severity:' '    stale: error'
	run -1 safedeploy flags --history
	assert_line --regexp "^error +stale +OLD_FLAG .*max-age is 30 days$"
}

@test "flags: flags.severity.dead: warning turns exit 1 into 0" {
	git init -q repo && cd repo
	go_config
	defs flags.go DEAD_ONE
	commit 2024-01-01T10:00:00Z "init"
	run -1 safedeploy flags
	assert_line --regexp "^error +dead +DEAD_ONE "
	go_config '  severity:' '    dead: warning'
	run -0 safedeploy flags
	assert_line --regexp "^warning +dead +DEAD_ONE +flags.go:2:7 "
	assert_line "0 errors, 1 warning: 1 flag in 1 file"
	go_config '  severity:' '    dead: off'
	run -0 safedeploy flags
	assert_output "0 errors, 0 warnings: 1 flag in 1 file"
	go_config '  severity:' '    dead: fatal'
	run -4 --separate-stderr safedeploy flags
	assert_regex "$stderr" "\.safedeploy\.yml:[0-9]+:[0-9]+: 'flags\.severity\.dead': must be one of error, warning, off \(got 'fatal'\)"
}

@test "flags: a retired name defined is resurrected; only referenced, retired-but-referenced" {
	git init -q repo && cd repo
	go_config '  retired: [OLD_FLAG]'
	defs flags.go USED OLD_FLAG
	uses use.go USED OLD_FLAG
	run -1 safedeploy flags
	assert_line --regexp "^error +resurrected +OLD_FLAG +flags.go:3:7 +flag 'OLD_FLAG' is listed in flags.retired and must not be defined again$"
	defs flags.go USED
	run -1 safedeploy flags
	assert_line --regexp "^error +retired-but-referenced +OLD_FLAG +use.go:6:13 +flag 'OLD_FLAG' is listed in flags.retired but 1 reference remains$"
	refute_output --partial "undefined"
	uses use.go USED
	run -0 safedeploy flags
}

@test "flags: allow-resurrect suppresses a resurrection found in history" {
	knight_repo
	go_config '  max-age: 100000d' '  allow-resurrect: [POWER_PEG]'
	run -0 safedeploy flags --history
	assert_output "0 errors, 0 warnings: 1 flag in 2 files, 3 commits of history"
	go_config '  max-age: 100000d' '  allow-resurrect: [OTHER]'
	run -1 safedeploy flags --history
	assert_line --regexp "^error +resurrected +POWER_PEG "
}

@test "flags: a name both retired and allowed back, defined and used, is not retired-but-referenced" {
	git init -q repo && cd repo
	go_config '  retired: [OLD_FLAG]' '  allow-resurrect: [OLD_FLAG]'
	defs flags.go OLD_FLAG
	uses use.go OLD_FLAG
	run -0 safedeploy flags
	assert_output "0 errors, 0 warnings: 1 flag in 2 files"
}

@test "flags: alias snake and camel make new_checkout and newCheckout one flag" {
	git init -q repo && cd repo
	cat > .safedeploy.yml <<-'EOF'
		flags:
		  alias: [snake, camel]
		  define:
		    - paths: ["flags.yml"]
		      pattern: '^- (\w+)'
		  reference:
		    - paths: ["*.js"]
		      pattern: 'isOn\(\s*(\w+)\s*\)'
	EOF
	printf -- '- new_checkout\n' > flags.yml
	printf 'if (isOn(newCheckout)) checkout();\n' > app.js
	commit 2024-01-01T10:00:00Z "Add new_checkout"
	run -0 safedeploy flags
	assert_output "0 errors, 0 warnings: 1 flag in 2 files"
	run -0 safedeploy flags timeline newCheckout
	assert_line --index 0 --regexp "^new_checkout: 1 definition and 1 reference at "
	# Without the aliases they are two flags, one dead and one undefined.
	sed -i '/alias/d' .safedeploy.yml
	run -1 safedeploy flags
	assert_line --regexp "^error +dead +new_checkout +flags.yml:1:3 "
	assert_line --regexp "^error +undefined +newCheckout +app.js:1:10 "
}

# ---------------------------------------------------------------------------
# Presets

@test "flags: preset kubernetes reads feature gates and features.Name, not vendor/" {
	git init -q repo && cd repo
	printf 'flags:\n  preset: kubernetes\n' > .safedeploy.yml
	mkdir -p pkg/features pkg/ctrl vendor/k8s.io/upstream
	printf 'package features\n\nimport "k8s.io/component-base/featuregate"\n\nconst (\n\tFoo featuregate.Feature = "Foo"\n\tBar featuregate.Feature = "Bar"\n)\n' \
		> pkg/features/kube_features.go
	printf 'package ctrl\n\nfunc run() {\n\tif features.Enabled(features.Foo) {\n\t\tstart()\n\t}\n\tif utilfeature.DefaultFeatureGate.Enabled(features.Baz) {\n\t}\n}\n' \
		> pkg/ctrl/ctrl.go
	printf 'package upstream\n\nconst (\n\tVendored featuregate.Feature = "Vendored"\n)\n' > vendor/k8s.io/upstream/f.go
	commit 2024-01-01T10:00:00Z "features"
	run -1 safedeploy flags
	assert_line --regexp "^error +dead +Bar +pkg/features/kube_features.go:7:2 "
	assert_line --regexp "^error +undefined +Baz +pkg/ctrl/ctrl.go:7:53 "
	refute_output --regexp "Foo|Vendored|DefaultFeatureGate"
	assert_line "2 errors, 0 warnings: 3 flags in 2 files"
	run -1 safedeploy flags timeline Vendored
}

# A flagd file with new-ui (used) and old-ui (not), and an app using
# new-ui and a missing flag; the presets are $1.
flagd_repo() {
	git init -q repo && cd repo
	printf 'flags:\n  preset: %s\n' "$1" > .safedeploy.yml
	cat > flags.flagd.json <<-'EOF'
		{
		  "flags": {
		    "new-ui": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"},
		    "old-ui": {"state": "DISABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off"}
		  }
		}
	EOF
	printf "const v = await client.getBooleanValue('new-ui', false);\nconst w = client.getStringValue(\"missing-flag\", 'x');\n" > app.js
}

@test "flags: preset flagd reads the keys of flags in flagd JSON and the SDK calls, alone or with another" {
	for presets in flagd '[flagd, list]'; do
		(
			flagd_repo "$presets"
			: > flags.txt
			run -1 safedeploy flags
			assert_line --regexp "^error +dead +old-ui +flags.flagd.json:4:6 "
			assert_line --regexp "^error +undefined +missing-flag +app.js:2:34 "
			refute_output --partial "'new-ui'"
			assert_line --regexp "^2 errors, 0 warnings: 3 flags in [23] files$"
		)
		rm -rf repo
	done
}

@test "flags: preset gitlab reads config/feature_flags YAML and Feature.enabled?" {
	git init -q repo && cd repo
	printf 'flags:\n  preset: gitlab\n' > .safedeploy.yml
	mkdir -p config/feature_flags/wip ee/config/feature_flags/beta app/models
	printf -- '---\nname: my_flag\ntype: wip\ndefault_enabled: false\n' > config/feature_flags/wip/my_flag.yml
	printf -- '---\nname: unused_flag\ntype: beta\n' > ee/config/feature_flags/beta/unused_flag.yml
	printf 'class A\n  def x\n    Feature.enabled?(:my_flag, project)\n    Feature.enabled?(:ghost_flag)\n  end\nend\n' > app/models/a.rb
	commit 2024-01-01T10:00:00Z "flags"
	run -1 safedeploy flags
	assert_line --regexp "^error +dead +unused_flag +ee/config/feature_flags/beta/unused_flag.yml:2:7 "
	assert_line --regexp "^error +undefined +ghost_flag +app/models/a.rb:4:23 "
	refute_output --partial "my_flag"
	# History walks into config/feature_flags/ too.
	run -0 safedeploy flags timeline my_flag
	assert_line --regexp "definition +born +config/feature_flags/wip/my_flag.yml "
	assert_line --regexp "reference +born +app/models/a.rb "
}

@test "flags: preset list reads one name a line from flags.txt" {
	git init -q repo && cd repo
	cat > .safedeploy.yml <<-'EOF'
		flags:
		  preset: list
		  reference:
		    - paths: ["*.py"]
		      pattern: 'flag\("(\w+)"\)'
	EOF
	printf '# our flags\nalpha\nbeta  # not used yet\n\n' > flags.txt
	printf 'if flag("alpha"):\n    pass\nif flag("gamma"):\n    pass\n' > app.py
	run -1 safedeploy flags
	assert_line --regexp "^error +dead +beta +flags.txt:3:1 "
	assert_line --regexp "^error +undefined +gamma +app.py:3:10 "
	refute_output --partial "alpha"
	refute_output --partial "our"
}

@test "flags: an unknown preset is exit 4 naming it and the known ones" {
	git init -q repo && cd repo
	printf 'flags:\n  preset: launchdarkly\n' > .safedeploy.yml
	run -4 --separate-stderr safedeploy flags
	assert_equal "$output" ""
	assert_regex "$stderr" "\.safedeploy\.yml:2:3: unknown preset 'launchdarkly' \(known: kubernetes, flagd, gitlab, list\)"
}

# ---------------------------------------------------------------------------
# The history cache

@test "flags: the cache: a second run reads nothing new; a new commit extends it" {
	knight_repo
	run -1 --separate-stderr safedeploy flags --history --json
	first=$(jq -c .findings <<< "$output")
	jq -e '.history.cache == false and .history."new-commits" == 3' <<< "$output"
	assert_equal "$(cache_file | wc -l)" 1
	jq -e --arg c "$C" '.version == 1 and .tip == $c and .scanned == 3' "$(cache_file)"
	run -1 --separate-stderr safedeploy flags --history --json
	assert_equal "$stderr" ""
	jq -e '.history.cache == true and .history."new-commits" == 0 and .history.commits == 3' <<< "$output"
	assert_equal "$(jq -c .findings <<< "$output")" "$first"
	echo 'package main // unrelated' > other.go
	commit 2013-01-01T10:00:00Z "Unrelated change"
	run -1 --separate-stderr safedeploy flags --history --json
	assert_equal "$stderr" ""
	jq -e '.history.cache == true and .history."new-commits" == 1 and .history.commits == 4' <<< "$output"
	assert_equal "$(jq -c .findings <<< "$output")" "$first"
	jq -e --arg h "$(git rev-parse HEAD)" '.tip == $h and .scanned == 4' "$(cache_file)"
}

@test "flags: a corrupted cache is rebuilt with a warning and the same findings" {
	knight_repo
	run -1 safedeploy flags --history --json
	first=$(jq -c .findings <<< "$output")
	echo 'garbage{{{' > "$(cache_file)"
	run -1 --separate-stderr safedeploy flags --history --json
	assert_regex "$stderr" "warning: the flag cache '.*/\.git/safedeploy/flags-[0-9a-f]+-[0-9a-f]{40}\.json' is corrupt"
	assert_equal "$(jq -c .findings <<< "$output")" "$first"
	jq -e '.history.cache == false' <<< "$output"
	# Rebuilt: the next run uses it silently.
	jq -e '.version == 1' "$(cache_file)"
	run -1 --separate-stderr safedeploy flags --history
	assert_equal "$stderr" ""
	# Valid JSON of the wrong shape is not trusted either.
	echo '{"version": 1, "digest": "x"}' > "$(cache_file)"
	run -1 --separate-stderr safedeploy flags --history
	assert_regex "$stderr" "is not usable \(another configuration\); rebuilding it"
	assert_line --regexp "^error +resurrected +POWER_PEG "
}

@test "flags: --no-cache neither writes nor reads the cache" {
	knight_repo
	run -1 safedeploy flags --history --no-cache --json
	jq -e '.history.cache == false' <<< "$output"
	assert_not_exist .git/safedeploy
	run -0 safedeploy flags timeline --no-cache POWER_PEG
	assert_not_exist .git/safedeploy
	# A garbage cache is not even looked at.
	mkdir .git/safedeploy
	run -1 safedeploy flags --history
	echo garbage > "$(cache_file)"
	run -1 --separate-stderr safedeploy flags --history --no-cache
	assert_equal "$stderr" ""
	assert_equal "$(cat "$(cache_file)")" garbage
}

@test "flags: runs started at once all succeed and leave a valid cache" {
	knight_repo
	local pids=() i
	for i in 1 2 3 4; do
		safedeploy flags --history --json > "out$i.json" 2> "err$i.txt" &
		pids+=($!)
	done
	local statuses=() st pid
	for pid in "${pids[@]}"; do
		st=0
		wait "$pid" || st=$?
		statuses+=("$st")
	done
	assert_equal "${statuses[*]}" "1 1 1 1"
	for i in 1 2 3 4; do
		jq -e '.findings[0].kind == "resurrected" and .findings[0].severity == "error"' "out$i.json"
		assert_equal "$(cat "err$i.txt")" ""
	done
	assert_equal "$(cache_file | wc -l)" 1
	jq -e --arg c "$C" '.tip == $c and .scanned == 3' "$(cache_file)"
	run -1 --separate-stderr safedeploy flags --history --json
	assert_equal "$stderr" ""
	jq -e '.history.cache == true and .history."new-commits" == 0' <<< "$output"
	# No temporary file is left behind.
	run ls .git/safedeploy
	refute_output --partial ".tmp."
}

@test "flags: rewritten history (amend, reset and new commits) is rescanned with a warning" {
	knight_repo
	run -1 safedeploy flags --history
	GIT_AUTHOR_DATE=2012-07-28T10:00:00Z GIT_COMMITTER_DATE=2012-07-28T10:00:00Z \
		git commit -q --amend -m "SMARS flag, amended"
	amended=$(git rev-parse HEAD)
	run -1 --separate-stderr safedeploy flags --history
	assert_regex "$stderr" "warning: no cached flag history fits ${amended:0:12} \(another branch, or history rewritten\); scanning from the root"
	assert_output --partial "defined again in ${amended:0:10} (2012-07-28, \"SMARS flag, amended\")"
	refute_output --partial "${C:0:10}"
	# Reset to the removal and bring the flag back two days later: now a
	# quick revert, a warning, and nothing of the old tip remains.
	git reset -q --hard "$B"
	defs flags.go POWER_PEG
	commit 2006-03-03T10:00:00Z "Undo the retirement"
	run -0 --separate-stderr safedeploy flags --history --json
	assert_regex "$stderr" "history rewritten"
	jq -e --arg b "$B" '.history.commits == 3 and .history.cache == false
		and (.findings[] | select(.kind == "resurrected") | .severity == "warning" and .removed.commit == $b and ."gap-days" == 2)' <<< "$output"
	run -0 --separate-stderr safedeploy flags --history
	assert_equal "$stderr" ""
}

@test "flags: an older --rev or checkout after a cached run does not say history was rewritten" {
	knight_repo
	run -1 safedeploy flags --history
	run -1 --separate-stderr safedeploy flags --history --rev HEAD~1
	assert_line --regexp "^error +retired-but-referenced +POWER_PEG "
	refute_regex "$stderr" "rewritten"
	git checkout -q -b topic "$B"
	run -1 --separate-stderr safedeploy flags --history
	refute_regex "$stderr" "rewritten"
}

# ---------------------------------------------------------------------------
# Bad input: a clear error, nothing changed

@test "flags: an invalid regex is exit 4 naming the pattern and the offset" {
	git init -q repo && cd repo
	go_config
	sed -i "s/'enabled\\\\((\\\\w+)\\\\)'/'enabled\\\\((\\\\w+'/" .safedeploy.yml
	grep -qF "'enabled\((\w+'" .safedeploy.yml
	defs flags.go A
	commit 2024-01-01T10:00:00Z "init"
	before=$(git status --porcelain)
	run -4 --separate-stderr safedeploy flags --history
	assert_equal "$output" ""
	assert_regex "$stderr" "^safedeploy: .*\.safedeploy\.yml:7:[0-9]+: invalid reference pattern 'enabled\\\\\(\(\\\\w\+': missing closing parenthesis at offset 13$"
	assert_not_exist .git/safedeploy
	assert_equal "$(git status --porcelain)" "$before"
}

@test "flags: a pattern without a capture group is exit 4 saying so" {
	git init -q repo && cd repo
	go_config
	sed -i "s/'enabled\\\\((\\\\w+)\\\\)'/'enabled\\\\(\\\\w+\\\\)'/" .safedeploy.yml
	grep -qF "'enabled\(\w+\)'" .safedeploy.yml
	run -4 --separate-stderr safedeploy flags
	assert_equal "$output" ""
	assert_regex "$stderr" "reference pattern 'enabled\\\\\(\\\\w\+\\\\\)' has no capture group"
}

@test "flags: a bad path glob is exit 4" {
	git init -q repo && cd repo
	go_config
	sed -i 's/\["flags\*.go"\]/["[flags"]/' .safedeploy.yml
	run -4 --separate-stderr safedeploy flags
	assert_equal "$output" ""
	assert_regex "$stderr" "flags\.define\[0\]\.paths\[0\]: '\[flags': unclosed '\['"
}

@test "flags: a bad path glob's error names the file and line" {
	git init -q repo && cd repo
	go_config
	sed -i 's/\["flags\*.go"\]/["[flags"]/' .safedeploy.yml
	run -4 --separate-stderr safedeploy flags
	assert_regex "$stderr" "\.safedeploy\.yml:[0-9]+:[0-9]+: .*unclosed '\['"
}

@test "flags: no flags: section is exit 4 saying what to set" {
	git init -q repo && cd repo
	run -4 --separate-stderr safedeploy flags
	assert_regex "$stderr" "no flag definitions configured: set flags.preset"
}

@test "flags: an empty repository: --history says there are no commits" {
	git init -q repo && cd repo
	go_config
	defs flags.go A
	uses use.go A
	# The working tree is still checked; there is no history to read.
	run -0 --separate-stderr safedeploy flags --history
	assert_regex "$stderr" "warning: the repository has no commits yet: no history to read"
	assert_output "0 errors, 0 warnings: 1 flag in 2 files"
	run -4 --separate-stderr safedeploy flags timeline A
	assert_equal "$output" ""
	assert_regex "$stderr" "the repository has no commits yet: there is no history to read"
	run -4 --separate-stderr safedeploy flags --history --rev HEAD
	assert_regex "$stderr" "no commits yet"
	assert_not_exist .git/safedeploy
}

@test "flags: outside a git repository: exit 4" {
	mkdir plain && cd plain
	go_config
	run -4 --separate-stderr safedeploy flags
	assert_equal "$output" ""
	assert_regex "$stderr" "^safedeploy: '\.' is not in a git repository$"
	cd ..
	run -4 --separate-stderr safedeploy flags -C plain --history
	assert_regex "$stderr" "'plain' is not in a git repository"
	run -4 --separate-stderr safedeploy hook install -C plain
	assert_regex "$stderr" "'plain' is not in a git repository"
	assert_not_exist plain/.git
}

@test "flags: usage errors are exit 2 with a try line" {
	git init -q repo && cd repo
	go_config
	run -2 --separate-stderr safedeploy flags --staged --history
	assert_regex "$stderr" "--staged checks the index: it takes neither --rev nor --history"
	assert_regex "$stderr" "Try 'safedeploy flags --help'"
	run -2 --separate-stderr safedeploy flags extra
	assert_regex "$stderr" "unexpected argument 'extra'"
	run -2 --separate-stderr safedeploy flags timeline
	assert_regex "$stderr" "missing flag name"
	run -2 --separate-stderr safedeploy hook
	assert_regex "$stderr" "missing hook"
	run -2 --separate-stderr safedeploy hook post-merge
	assert_regex "$stderr" "unknown hook 'post-merge'"
}

@test "flags: a shallow clone is scanned as far as it goes, with a warning" {
	knight_repo
	cd ..
	git clone -q --depth 2 "file://$PWD/knight" shallow
	cd shallow
	run -0 --separate-stderr safedeploy flags --history
	assert_regex "$stderr" "warning: shallow clone: history starts at ${B:0:12}; flags removed before it are not known"
	# A's definition is beyond the boundary: no resurrection is known.
	refute_output --partial "resurrected"
	assert_line --regexp "^warning +stale +POWER_PEG "
	assert_line --regexp ", 2 commits of history \(shallow\)$"
	run -0 safedeploy flags --history --json
	jq -e --arg b "$B" '.history.shallow == true and .history.root == $b and .history.commits == 2' <<< "$output"
}

@test "flags: binary files and files over max-file-size are skipped, the big one named" {
	git init -q repo && cd repo
	go_config '  max-file-size: 1K' '  max-age: 100000d'
	sed -i 's/\["\*\.go"\]/["*.go", "*.bin"]/' .safedeploy.yml
	defs flags.go A
	uses use.go A
	printf 'package main\nfunc f() { enabled(IN_BINARY) }\n\0\1\2' > blob.bin
	uses big.go IN_BIG
	{
		head -c 2000 /dev/zero | tr '\0' x
		echo
	} >> big.go
	commit 2024-01-01T10:00:00Z "init"
	for args in "" "--rev HEAD"; do
		# shellcheck disable=SC2086
		run -0 --separate-stderr safedeploy flags $args
		assert_output "0 errors, 0 warnings: 1 flag in 2 files"
		assert_regex "$stderr" "warning: big\.go: skipped, [0-9]+ bytes is over the 1024-byte limit"
	done
	run -0 --separate-stderr safedeploy flags --json
	jq -e '.scanned.skipped == 2 and .scanned.files == 2' <<< "$output"
	run -0 safedeploy flags --history
	refute_output --regexp "IN_BINARY|IN_BIG"
	run -1 safedeploy flags timeline IN_BIG
	# Raise the limit and the big file's flag is found.
	go_config '  max-file-size: 1M' '  max-age: 100000d'
	run -1 safedeploy flags
	assert_line --regexp "^error +undefined +IN_BIG +big.go:3:13 "
}

@test "flags: a submodule is skipped" {
	git init -q lib && cd lib
	go_config
	defs flags.go DEAD_IN_SUBMODULE
	uses use.go IN_SUBMODULE
	commit 2024-01-01T10:00:00Z "lib"
	cd .. && git init -q repo && cd repo
	go_config '  max-age: 100000d'
	defs flags.go A
	uses use.go A
	commit 2024-01-01T10:00:00Z "init"
	git submodule add -q ../lib sub
	assert_exist sub/use.go
	run -0 safedeploy flags --staged
	commit 2024-01-02T10:00:00Z "Add a submodule"
	run -0 safedeploy flags
	assert_output "0 errors, 0 warnings: 1 flag in 2 files"
	run -0 safedeploy flags --history
	run -0 safedeploy flags --rev HEAD
	refute_output --partial "SUBMODULE"
}

@test "flags: a non-UTF-8 file name works and --json stays valid JSON" {
	git init -q repo && cd repo
	go_config
	defs flags.go A
	uses use.go A
	uses "$(printf 'a\xff.go')" NON_UTF8
	commit 2024-01-01T10:00:00Z "init"
	run -1 safedeploy flags
	assert_line --regexp "^error +undefined +NON_UTF8 +a.+\.go:3:13 "
	run -1 safedeploy flags --history --json
	jq -e '.findings[] | select(.kind == "undefined") | .flag == "NON_UTF8" and .path == "a\ufffd.go"' <<< "$output"
	run -0 safedeploy flags timeline --json NON_UTF8
	jq -e '.events[0].path == "a\ufffd.go"' <<< "$output"
	run -1 safedeploy flags --sarif out.sarif
	jq -e '.version == "2.1.0"' out.sarif
}

@test "flags: SARIF names a non-UTF-8 file by its bytes" {
	git init -q repo && cd repo
	go_config
	uses "$(printf 'a\xff.go')" NON_UTF8
	run -1 safedeploy flags --sarif out.sarif
	jq -e '.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri == "a%FF.go"' out.sarif
}

@test "flags: a detached HEAD works" {
	knight_repo
	git checkout -q --detach "$B"
	run -1 safedeploy flags --history
	assert_line --regexp "^error +retired-but-referenced +POWER_PEG +peg.go:3:13 +flag 'POWER_PEG' lost its definition in ${B:0:10} \(2006-03-01, \"Retire Power Peg\"\) but 1 reference remains$"
	run -0 safedeploy flags timeline POWER_PEG
	assert_equal "${lines[0]}" "POWER_PEG: 0 definitions and 1 reference at ${B:0:12}"
	run -0 safedeploy flags --staged
}

@test "flags: a flag merged from a side branch is born at the merge (first parent only)" {
	git init -q repo && cd repo
	go_config '  max-age: 100000d'
	defs flags.go A
	uses use.go A
	commit 2024-01-01T10:00:00Z "init"
	git checkout -q -b side
	defs flags.go A SIDE
	uses use.go A SIDE
	commit 2024-01-02T10:00:00Z "side: add SIDE"
	echo 'package main // more' > more.go
	commit 2024-01-03T10:00:00Z "side: more"
	git checkout -q main
	echo 'package main // main' > main.go
	commit 2024-01-04T10:00:00Z "main work"
	GIT_AUTHOR_DATE=2024-01-05T10:00:00Z GIT_COMMITTER_DATE=2024-01-05T10:00:00Z \
		git merge -q --no-ff -m "Merge branch side" side
	merge=$(git rev-parse HEAD)
	run -0 safedeploy flags timeline SIDE
	assert_line --index 1 --regexp "^${merge:0:10}  2024-01-05  definition  born +flags.go +Merge branch side \(Ann Dev\)$"
	assert_line --index 2 --regexp "^${merge:0:10}  2024-01-05  reference   born +use.go +Merge branch side \(Ann Dev\)$"
	refute_output --partial "side: add SIDE"
	run -0 safedeploy flags --history --json
	jq -e '.history.commits == 3 and .findings == []' <<< "$output"
}

@test "flags: an unknown configuration key is a warning that names it" {
	git init -q repo && cd repo
	go_config '  max-ages: 10d'
	defs flags.go A
	uses use.go A
	run -0 --separate-stderr safedeploy flags
	assert_regex "$stderr" "warning: .*\.safedeploy\.yml:8:3: unknown key 'flags\.max-ages' \(did you mean 'flags\.max-age'\?\)"
	assert_output "0 errors, 0 warnings: 1 flag in 2 files"
}

@test "flags: a counted quantifier in a pattern does not hide every match" {
	git init -q repo && cd repo
	cat > .safedeploy.yml <<-'EOF'
		flags:
		  define:
		    - paths: ["flags.yml"]
		      pattern: '^ {2}- (\w+)'
		  reference:
		    - paths: ["*.py"]
		      pattern: 'is_on\("(\w+)"\)'
	EOF
	printf 'flags:\n  - dark_mode\n' > flags.yml
	printf 'if is_on("dark_mode"):\n    pass\n' > app.py
	grep -qP '^ {2}- (\w+)' flags.yml
	run -0 safedeploy flags
	assert_output "0 errors, 0 warnings: 1 flag in 2 files"
}

@test "flags: a working tree that defines a removed flag again is resurrected" {
	knight_repo
	git checkout -q "$B"
	defs flags.go POWER_PEG
	run -1 safedeploy flags --history
	assert_line --regexp "^error +resurrected +POWER_PEG +flags.go:2:7 .*removed in ${B:0:10}"
	refute_output --partial "since ${A:0:10}"
}

@test "flags: relative --config and --sarif are relative to the current directory" {
	git init -q repo && cd repo
	go_config
	defs flags.go DEAD_ONE
	mkdir -p sub/dir && cd sub/dir
	printf 'flags:\n  severity:\n    dead: warning\n' > local.yml
	run -0 safedeploy flags --config local.yml --sarif out.sarif
	assert_exist out.sarif
	assert_not_exist ../../out.sarif
}

# ---------------------------------------------------------------------------
# SARIF

@test "flags: --sarif FILE writes SARIF 2.1.0 with rule, level and location" {
	git init -q repo && cd repo
	go_config
	defs flags.go USED DEAD_ONE
	uses use.go USED
	commit 2024-01-01T10:00:00Z "init"
	run -1 --separate-stderr safedeploy flags --sarif out.sarif
	assert_line --regexp "^error +dead +DEAD_ONE "
	assert_file_exists out.sarif
	jq -e '
		.version == "2.1.0"
		and (."$schema" | test("sarif"))
		and .runs[0].tool.driver.name == "safedeploy flags"
		and ([.runs[0].tool.driver.rules[].id] | index("flags/dead") != null)
		and (.runs[0].results | length) == 1
		and (.runs[0].results[0]
			| .ruleId == "flags/dead" and .level == "error"
			and (.message.text | test("DEAD_ONE"))
			and .locations[0].physicalLocation.artifactLocation.uri == "flags.go"
			and .locations[0].physicalLocation.region.startLine == 3
			and .locations[0].physicalLocation.region.startColumn == 7)' out.sarif
	# A warning is level warning; a clean tree an empty result list.
	go_config '  severity:' '    dead: warning'
	run -0 safedeploy flags --sarif out.sarif
	jq -e '.runs[0].results[0].level == "warning"' out.sarif
	uses use.go USED DEAD_ONE
	run -0 safedeploy flags --sarif out.sarif
	jq -e '.runs[0].results == []' out.sarif
}

# ---------------------------------------------------------------------------
# The staged check (pre-commit)

@test "flags: --staged blocks a reference to an undefined flag, file:line:col on stderr" {
	git init -q repo && cd repo
	go_config
	defs flags.go A
	uses use.go A
	commit 2024-01-01T10:00:00Z "init"
	uses new.go NOT_DEFINED
	# Not staged: nothing to check.
	run -0 safedeploy flags --staged
	git add new.go
	run -1 --separate-stderr safedeploy flags --staged
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" "new.go:3:13: error: flag 'NOT_DEFINED' is not defined"
	assert_regex "$stderr" "the commit is blocked"
	run -1 safedeploy flags --staged --json
	jq -e '.problems == [{"path": "new.go", "line": 3, "column": 13, "severity": "error",
		"kind": "undefined", "flag": "NOT_DEFINED", "message": "flag '"'"'NOT_DEFINED'"'"' is not defined",
		"uri": "new.go"}]' <<< "$output"
	# Staging the definition too lets it through.
	defs flags.go A NOT_DEFINED
	git add flags.go
	run -0 --separate-stderr safedeploy flags --staged
	assert_equal "$stderr" ""
	# Only what is staged counts: the definition in the working tree alone
	# does not.
	git reset -q flags.go
	run -1 safedeploy flags --staged
}

@test "flags: --staged blocks defining again a flag removed long ago" {
	knight_repo
	git checkout -q -b topic "$B"
	defs flags.go POWER_PEG
	git add flags.go
	run -1 --separate-stderr safedeploy flags --staged
	assert_regex "$stderr" "flags\.go:2:7: error: flag 'POWER_PEG' was removed in ${B:0:10} \(2006-03-01, \"Retire Power Peg\"\); defining it again resurrects it, and code that still uses it switches back on"
	# A retired name from the configuration too.
	git reset -q --hard
	go_config '  retired: [SMARS]'
	defs flags.go SMARS
	git add -A
	run -1 --separate-stderr safedeploy flags --staged
	assert_regex "$stderr" "flags\.go:2:7: error: flag 'SMARS' is listed in flags.retired and must not be defined again"
}

@test "flags: --staged passes a change that does not touch flags, without rescanning" {
	knight_repo
	run -1 safedeploy flags --history
	cache=$(cache_file)
	inode=$(stat -c %i "$cache")
	echo '# notes' > NOTES.md
	echo 'package main // no flags here' > other.go
	git add NOTES.md other.go
	run -0 --separate-stderr safedeploy flags --staged
	assert_equal "$output" ""
	assert_equal "$stderr" ""
	# The warm cache was read, not rebuilt.
	assert_equal "$(stat -c %i "$cache")" "$inode"
}

# ---------------------------------------------------------------------------
# The git hooks

@test "hook install: pre-commit and pre-push shims, idempotent, never over another hook" {
	git init -q repo && cd repo
	run -0 safedeploy hook install
	assert_line "$PWD/.git/hooks/pre-commit: installed"
	assert_line "$PWD/.git/hooks/pre-push: installed"
	for h in pre-commit pre-push; do
		assert_file_executable ".git/hooks/$h"
		assert_equal "$(head -n 1 ".git/hooks/$h")" "#!/bin/sh"
		# shellcheck disable=SC2016 # the shim's own text
		grep -q '"${SAFEDEPLOY:-safedeploy}" hook '"$h" ".git/hooks/$h"
	done
	run -0 safedeploy hook install
	assert_line "$PWD/.git/hooks/pre-commit: already installed"
	assert_line "$PWD/.git/hooks/pre-push: already installed"
	# Someone else's hook stays.
	printf '#!/bin/sh\necho mine\n' > .git/hooks/pre-commit
	run -1 --separate-stderr safedeploy hook install
	assert_regex "$stderr" "'$PWD/\.git/hooks/pre-commit' is a different hook; installing nothing \(--force replaces it"
	assert_equal "$(cat .git/hooks/pre-commit)" "$(printf '#!/bin/sh\necho mine')"
	run -0 safedeploy hook install --force
	assert_line "$PWD/.git/hooks/pre-commit: installed (the previous hook is now $PWD/.git/hooks/pre-commit.safedeploy-old)"
	assert_equal "$(cat .git/hooks/pre-commit.safedeploy-old)" "$(printf '#!/bin/sh\necho mine')"
	grep -q 'hook pre-commit' .git/hooks/pre-commit
}

@test "hook install: --force a second time keeps the first saved hook" {
	git init -q repo && cd repo
	printf '#!/bin/sh\necho first\n' > .git/hooks/pre-commit
	run -0 safedeploy hook install --force
	printf '#!/bin/sh\necho second\n' > .git/hooks/pre-commit
	run -0 safedeploy hook install --force
	run -0 cat .git/hooks/pre-commit.safedeploy-old*
	assert_output --partial "echo first"
	assert_output --partial "echo second"
}

@test "hook install: core.hooksPath is honoured" {
	git init -q repo && cd repo
	git config core.hooksPath .githooks
	mkdir -p sub && cd sub
	run -0 safedeploy hook install
	cd ..
	assert_file_executable .githooks/pre-commit
	assert_file_executable .githooks/pre-push
	assert_not_exist .git/hooks/pre-commit
	git config core.hooksPath "$BATS_TEST_TMPDIR/shared-hooks"
	run -0 safedeploy hook install
	assert_file_executable "$BATS_TEST_TMPDIR/shared-hooks/pre-commit"
}

@test "hook: a real git commit referencing an undefined flag is blocked; the fixed one goes through" {
	git init -q repo && cd repo
	go_config
	defs flags.go A
	uses use.go A
	commit 2024-01-01T10:00:00Z "init"
	run -0 safedeploy hook install
	uses new.go NOPE
	git add new.go
	run -1 --separate-stderr git commit -q -m "use NOPE"
	assert_regex "$stderr" "new\.go:3:13: error: flag 'NOPE' is not defined"
	assert_equal "$(git rev-list --count HEAD)" 1
	defs flags.go A NOPE
	run -0 commit 2024-01-02T10:00:00Z "use NOPE, defined"
	assert_equal "$(git rev-list --count HEAD)" 2
	assert_equal "$(git log -1 --format=%s)" "use NOPE, defined"
	# The shim says so when safedeploy cannot be found.
	echo 'package main // x' > x.go
	git add x.go
	SAFEDEPLOY=/nonexistent/safedeploy run -1 --separate-stderr git commit -q -m x
	assert_regex "$stderr" "pre-commit: safedeploy is not installed"
}

@test "hook: pre-push refuses commits that resurrect a removed flag; a clean push goes through" {
	git init -q --bare remote.git
	knight_repo
	git reset -q --hard "$B"
	run -0 safedeploy hook install
	git remote add origin ../remote.git
	run -0 git push -q origin main
	assert_equal "$(git --git-dir=../remote.git rev-parse main)" "$B"
	# The pre-commit hook stops the resurrection first...
	defs flags.go POWER_PEG
	git add flags.go
	run -1 --separate-stderr git commit -q -m "Repurpose POWER_PEG"
	assert_regex "$stderr" "flag 'POWER_PEG' was removed in ${B:0:10}"
	# ...and pre-push stops it when the commit skipped that hook.
	GIT_AUTHOR_DATE=2012-07-27T10:00:00Z GIT_COMMITTER_DATE=2012-07-27T10:00:00Z \
		git commit -q --no-verify -m "Repurpose POWER_PEG"
	bad=$(git rev-parse HEAD)
	run -1 --separate-stderr git push -q origin main
	assert_regex "$stderr" "flags\.go: error: flag 'POWER_PEG' is defined again in ${bad:0:10} \(2012-07-27, \"Repurpose POWER_PEG\"\), after its removal in ${B:0:10}"
	assert_regex "$stderr" "the push is blocked"
	assert_equal "$(git --git-dir=../remote.git rev-parse main)" "$B"
	# A new branch is checked against what the remote has.
	run -1 git push -q origin HEAD:refs/heads/smars
	run -1 git --git-dir=../remote.git rev-parse --verify -q refs/heads/smars
	# A clean new branch goes through.
	git checkout -q -b clean "$B"
	echo 'package main // docs' > docs.go
	commit 2006-04-01T10:00:00Z "Docs"
	run -0 git push -q origin clean
	assert_equal "$(git --git-dir=../remote.git rev-parse clean)" "$(git rev-parse HEAD)"
}

@test "hook: a hook kept aside by --force still runs first, with the same input" {
	git init -q --bare remote.git
	git init -q repo && cd repo
	go_config
	defs flags.go A
	uses use.go A
	commit 2024-01-01T10:00:00Z "init"
	git remote add origin ../remote.git
	printf '#!/bin/sh\necho "old pre-commit ran" >&2\n[ ! -e stop ]\n' > .git/hooks/pre-commit
	printf '#!/bin/sh\ncat > "$(git rev-parse --git-dir)/old-push-input"\n' > .git/hooks/pre-push
	chmod +x .git/hooks/pre-commit .git/hooks/pre-push
	run -0 safedeploy hook install --force
	# Both run: the old one first, then the flag check.
	uses new.go A
	git add new.go
	run -0 --separate-stderr git commit -q -m "use A again"
	assert_regex "$stderr" "old pre-commit ran"
	uses more.go NOPE
	git add more.go
	run -1 --separate-stderr git commit -q -m "use NOPE"
	assert_regex "$stderr" "old pre-commit ran"
	assert_regex "$stderr" "more\.go:3:13: error: flag 'NOPE' is not defined"
	# When the old hook fails, so does the commit, flags or not.
	git reset -q more.go
	touch stop
	run -1 git commit -q --allow-empty -m "stopped by the old hook"
	assert_equal "$(git rev-list --count HEAD)" 2
	rm stop
	# pre-push: the old hook gets git's ref lines, and so does the check.
	run -0 git push -q origin HEAD:refs/heads/main
	run -0 cat .git/old-push-input
	assert_output --regexp "^HEAD $(git rev-parse HEAD) refs/heads/main 0{40}$"
}

@test "hook: the pre-commit framework with a local hook blocks a bad commit" {
	command -v pre-commit > /dev/null || skip "pre-commit is not installed (apt-get install pre-commit)"
	git init -q repo && cd repo
	go_config
	cat > .pre-commit-config.yaml <<-'EOF'
		repos:
		  - repo: local
		    hooks:
		      - id: safedeploy-flags
		        name: safedeploy flags
		        entry: safedeploy flags --staged
		        language: system
		        pass_filenames: false
		        always_run: true
	EOF
	defs flags.go A
	uses use.go A
	commit 2024-01-01T10:00:00Z "init"
	run -0 pre-commit install
	assert_file_executable .git/hooks/pre-commit
	uses new.go NOPE
	git add new.go
	run -1 pre-commit run
	assert_output --partial "new.go:3:13: error: flag 'NOPE' is not defined"
	assert_line --regexp "^safedeploy flags\.+Failed$"
	run -1 git commit -q -m "use NOPE"
	assert_output --partial "new.go:3:13: error: flag 'NOPE' is not defined"
	assert_equal "$(git rev-list --count HEAD)" 1
	defs flags.go A NOPE
	git add flags.go
	run -0 pre-commit run
	assert_line --regexp "^safedeploy flags\.+Passed$"
	run -0 commit 2024-01-02T10:00:00Z "use NOPE, defined"
	assert_equal "$(git rev-list --count HEAD)" 2
	assert_dir_exists "$PRE_COMMIT_HOME"
}

@test "hook: the repository's .pre-commit-hooks.yaml is a valid manifest whose hook blocks" {
	command -v pre-commit > /dev/null || skip "pre-commit is not installed (apt-get install pre-commit)"
	run -0 pre-commit validate-manifest "$REPO_ROOT/.pre-commit-hooks.yaml"
	git init -q repo && cd repo
	go_config
	defs flags.go A
	uses use.go A
	commit 2024-01-01T10:00:00Z "init"
	uses new.go NOPE
	git add new.go
	# try-repo reads the hooks from the manifest of this repository.
	run -1 pre-commit try-repo "$REPO_ROOT" safedeploy-flags
	assert_output --partial "new.go:3:13: error: flag 'NOPE' is not defined"
	assert_line --regexp "^safedeploy flags\.+Failed$"
	defs flags.go A NOPE
	git add flags.go
	run -0 pre-commit try-repo "$REPO_ROOT" safedeploy-flags
	assert_line --regexp "^safedeploy flags\.+Passed$"
}
