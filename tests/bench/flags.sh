#!/usr/bin/env bash
# Benchmark: safedeploy flags --history over the whole first-parent history
# of a repository of Kubernetes-style feature gates, side by side in one run
# with what a user would otherwise run: git log --first-parent -S NAME once
# per flag. Prints the machine, the cold scan (wall time, peak memory), the
# warm re-run (cache present, nothing new), the per-flag baseline multiplied
# out to every flag ever defined, and a table against the targets (set for
# kubernetes-sigs/kueue): cold under 15 s, at least 50x the baseline, warm
# under 0.5 s, peak under 200 MB. Targets are printed, not asserted: the
# exit status is non-zero only when a command fails.
#
#   FLAGS_BENCH_REPO=DIR  a clone (bare or not) of kubernetes-sigs/kueue or
#                         any repository of Go feature gates; by default a
#                         repository of BENCH_COMMITS (10,000) first-parent
#                         commits is generated
#   BENCH_FLAGS=N         flags timed for the baseline (default 10)
#   BENCH_RUNS=N          warm re-runs, the best counts (default 3)
#   BENCH_QUICK=1         1,000 generated commits, 3 flags timed, 1 warm
#                         re-run: checks the machinery only, not comparable
#                         with the targets
#
# The user's repository is only read. The scans run in a bare repository of
# our own whose object store is the user's (objects/info/alternates) and whose
# HEAD is the user's HEAD commit, so safedeploy's cache (<gitdir>/safedeploy)
# is written under the scratch directory: a cache of the user's own is
# neither used nor deleted, and two benchmarks do not race on one cache.
set -euo pipefail
# A relative FLAGS_BENCH_REPO is relative to where the benchmark was started.
[ -z "${FLAGS_BENCH_REPO:-}" ] || FLAGS_BENCH_REPO=$(cd "$FLAGS_BENCH_REPO" && pwd)
cd "$(dirname "$0")/../.."
bin=$PWD/bin/safedeploy
# shellcheck source=tests/bench/report.bash
. tests/bench/report.bash
for tool in git jq python3 awk /usr/bin/time; do
	command -v "$tool" > /dev/null || { echo "bench: needs $tool (make deps)" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "bench: no $bin (run make first)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP
# No configuration of the user's changes what a flag is: only --config.
export XDG_CONFIG_HOME=$work/xdg
nflags=${BENCH_FLAGS:-$(bench_quick 3 10)}
runs=${BENCH_RUNS:-$(bench_quick 1 3)}
commits=${BENCH_COMMITS:-$(bench_quick 1000 10000)}
printf 'flags:\n  preset: kubernetes\n' > "$work/flags.yml"

now_ns() { date +%s%N; }
ms_since() { echo $((($(now_ns) - $1) / 1000000)); }
secs() { awk -v ms="$1" 'BEGIN { printf "%.2f", ms / 1000 }'; }

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
printf 'machine: %s CPUs, %s, %s\n' "$(nproc)" "${cpu:-unknown CPU}" \
	"$(awk '/^MemTotal/ { printf "%.1f GB RAM", $2 / 1048576 }' /proc/meminfo)"
printf 'versions: %s, %s\n' "$("$bin" --version | head -1)" "$(git --version)"

# generate DIR N: a bare repository of N first-parent commits, one a
# fixed 5 hours after the other from 2019-01-01, written by one git
# fast-import. Go-like: pkg/features/kube_features.go defines the gates
# (`Name featuregate.Feature = "Name"`), 300 files under pkg/, cmd/ and test/
# use them (`features.Enabled(features.Name)`). Over time 60 gates are
# added, 20 graduate (definition and uses removed), 2 lose only their
# definition (retired but referenced), 3 are removed and defined again
# years later (resurrected), 1 is removed and restored 15 hours later by a
# Revert, 1 is renamed; the definitions file is moved once and a source
# file once (neither may be an event). Deterministic (a fixed seed).
generate() {
	git init -q --bare --initial-branch=main "$1"
	python3 - "$2" << 'EOF' | git -C "$1" fast-import --quiet --done
import random
import sys

N = int(sys.argv[1])
rng = random.Random(1729)
out = sys.stdout.buffer
T0, STEP = 1546300800, 5 * 3600
AUTHORS = ["Ada Lovelace <ada@example.com>", "Alan Turing <alan@example.com>",
           "Grace Hopper <grace@example.com>", "Edsger Dijkstra <ewd@example.com>",
           "Barbara Liskov <liskov@example.com>", "Ken Thompson <ken@example.com>",
           "Frances Allen <fran@example.com>", "Donald Knuth <knuth@example.com>"]
WORDS = ("Admission Aware Backoff Batch Borrow Check Cohort Config Dynamic "
         "Elastic Expose Fair Flavor Fungibility Group Hierarchical Implicit "
         "Job Label Lending Limit Local Managed Multi Namespace Partial Pod "
         "Preemption Priority Provisioning Queue Reclaim Request Resource "
         "Sanitize Scheduling Selector Sharing Slices Status Topology "
         "Visibility Workload").split()
names, seen = [], set()
while len(names) < 122:
    n = "".join(rng.sample(WORDS, rng.choice((2, 3, 3, 4))))
    if n not in seen:
        seen.add(n)
        names.append(n)
pool = iter(names)
STAGES = ["Alpha", "Beta", "GA"]

class File:
    def __init__(self, path):
        self.path, self.pkg = path, path.split("/")[-2].replace("-", "")
        self.blocks, self.next = [], 0

    def add(self, gate=None):
        self.next += 1
        self.blocks.append(["g", gate, self.next] if gate else ["h", self.next, rng.randint(1, 999)])

    def gates(self):
        return [b[1] for b in self.blocks if b[0] == "g"]

    def render(self):
        s = ["// Copyright 2019 The Kueue Authors.\n// Licensed under the Apache License, Version 2.0.\n\n",
             "package %s\n\nimport (\n\t\"context\"\n\n\t\"sigs.k8s.io/kueue/pkg/features\"\n)\n\n" % self.pkg]
        for b in self.blocks:
            if b[0] == "g":
                s.append("func reconcile%d(ctx context.Context) error {\n\tif features.Enabled(features.%s) {\n"
                         "\t\treturn handle%d(ctx, %d)\n\t}\n\treturn nil\n}\n\n" % (b[2], b[1], b[2], b[2] % 7))
            else:
                s.append("// helper%d computes revision %d.\nfunc helper%d(x int) int {\n\treturn x*%d + %d\n}\n\n"
                         % (b[1], b[2], b[1], b[2], b[1]))
        return "".join(s).encode()

DIRS = ["pkg/controller/core", "pkg/controller/jobs/job", "pkg/controller/jobs/pod",
        "pkg/controller/jobframework", "pkg/controller/admissionchecks/multikueue",
        "pkg/controller/admissionchecks/provisioning", "pkg/scheduler",
        "pkg/scheduler/preemption", "pkg/scheduler/flavorassigner", "pkg/cache",
        "pkg/queue", "pkg/webhooks", "pkg/util/api", "pkg/util/testing", "pkg/workload",
        "pkg/visibility", "pkg/metrics", "cmd/kueue", "test/integration/scheduler",
        "test/e2e/singlecluster"]
files = [File("%s/%s_%02d.go" % (d, d.split("/")[-1], i)) for d in DIRS for i in range(15)]
defs = {}                     # gate -> stage, in order of definition
defpath = "pkg/features/features.go"
nc = 0

def render_defs():
    s = ["// Copyright 2019 The Kueue Authors.\n\npackage features\n\nimport (\n",
         "\t\"k8s.io/component-base/featuregate\"\n)\n\nconst (\n"]
    for g in defs:
        s.append("\t// owner: @%s\n\t//\n\t// Enables %s.\n\t%s featuregate.Feature = \"%s\"\n\n"
                 % (g.lower()[:12], g, g, g))
    s.append(")\n\nvar defaultFeatureGates = map[featuregate.Feature]featuregate.FeatureSpec{\n")
    for g, st in defs.items():
        s.append("\t%s: {Default: %s, PreRelease: featuregate.%s},\n" % (g, str(st != "Alpha").lower(), st))
    s.append("}\n\nfunc Enabled(f featuregate.Feature) bool { return defaultFeatureGates[f].Default }\n")
    return "".join(s).encode()

def docs():
    return ("# Feature gates\n\n" + "".join("- `%s`: %s\n" % (g, st) for g, st in defs.items())).encode()

def commit(subject, changed, deleted=()):
    global nc
    t = T0 + nc * STEP
    who = AUTHORS[rng.randrange(len(AUTHORS))]
    msg = subject.encode() + b"\n"
    buf = [b"commit refs/heads/main\n", ("author %s %d +0000\ncommitter %s %d +0000\n" % (who, t, who, t)).encode(),
           b"data %d\n" % len(msg), msg]
    for p in deleted:
        buf.append(b"D %s\n" % p.encode())
    for p, data in changed:
        buf += [b"M 100644 inline %s\ndata %d\n" % (p.encode(), len(data)), data, b"\n"]
    out.write(b"".join(buf) + b"\n")
    nc += 1

def define(g, with_refs):
    defs[g] = "Alpha"
    ch = [(defpath, render_defs()), ("site/feature-gates.md", docs())]
    for f in rng.sample(files, rng.randint(1, 3)) if with_refs else []:
        f.add(g)
        ch.append((f.path, f.render()))
    return ch

def undefine(g, refs_too):
    del defs[g]
    ch = [(defpath, render_defs()), ("site/feature-gates.md", docs())]
    for f in files if refs_too else []:
        if g in f.gates():
            f.blocks = [b for b in f.blocks if not (b[0] == "g" and b[1] == g)]
            ch.append((f.path, f.render()))
    return ch

# The first commit: 60 gates, every file using a few of them.
for _ in range(60):
    defs[next(pool)] = rng.choice(STAGES[:2])
for f in files:
    for _ in range(rng.randint(6, 20)):
        f.add(rng.choice(list(defs)) if rng.random() < 0.3 else None)
commit("Initial commit", [(defpath, render_defs()), ("site/feature-gates.md", docs()),
                          ("README.md", b"# kueue-like\n"), ("go.mod", b"module sigs.k8s.io/kueue\n")]
       + [(f.path, f.render()) for f in files])

initial = list(defs)
resurrect, revert, rename = initial[:3], initial[3], initial[4]
special = set(initial[:5])
plan = {int(N * 0.15): ("movedefs",), int(N * 0.5): ("revert-remove",),
        int(N * 0.5) + 3: ("revert-restore",), int(N * 0.55): ("movefile",),
        int(N * 0.6): ("rename",)}
for k, g in enumerate(resurrect):
    plan[int(N * (0.2 + 0.07 * k))] = ("remove", g)
    plan[int(N * (0.75 + 0.05 * k))] = ("readd", g)
free = [i for i in range(50, N - 50) if i not in plan]
slots = rng.sample(free, 82)
for i in slots[:60]:
    plan[i] = ("add",)
for i in slots[60:80]:
    plan[i] = ("graduate",)
for i in slots[80:82]:
    plan[i] = ("retire",)

while nc < N:
    ev = plan.get(nc, ("work",))
    alive = [g for g in defs if g not in special]
    if ev[0] == "add":
        g = next(pool)
        commit("Add feature gate %s" % g, define(g, True))
    elif ev[0] in ("graduate", "retire") and alive:
        g = rng.choice(alive)
        if ev[0] == "graduate":
            commit("Remove feature gate %s (graduated to GA)" % g, undefine(g, True))
        else:
            special.add(g)  # no new uses of a retired gate
            commit("Drop the definition of %s" % g, undefine(g, False))
    elif ev[0] == "remove":
        commit("Remove feature gate %s" % ev[1], undefine(ev[1], True))
    elif ev[0] == "readd":
        commit("Add feature gate %s" % ev[1], define(ev[1], True))
    elif ev[0] == "revert-remove":
        saved = {f.path: [list(b) for b in f.blocks if b[0] == "g" and b[1] == revert] for f in files}
        commit("Remove feature gate %s" % revert, undefine(revert, True))
    elif ev[0] == "revert-restore":
        defs[revert] = "Beta"
        ch = [(defpath, render_defs()), ("site/feature-gates.md", docs())]
        for f in files:
            if saved.get(f.path):
                f.blocks += saved[f.path]
                ch.append((f.path, f.render()))
        commit('Revert "Remove feature gate %s"' % revert, ch)
    elif ev[0] == "rename":
        new = next(pool)
        defs = {(new if g == rename else g): st for g, st in defs.items()}
        ch = [(defpath, render_defs()), ("site/feature-gates.md", docs())]
        for f in files:
            if rename in f.gates():
                for b in f.blocks:
                    if b[0] == "g" and b[1] == rename:
                        b[1] = new
                ch.append((f.path, f.render()))
        special.add(new)
        commit("Rename feature gate %s to %s" % (rename, new), ch)
    elif ev[0] == "movedefs":
        old, defpath = defpath, "pkg/features/kube_features.go"
        commit("Move the feature gates to kube_features.go", [(defpath, render_defs())], [old])
    elif ev[0] == "movefile":
        f = max(files, key=lambda f: len(f.gates()))
        old = f.path
        f.path = old.replace("pkg/util/", "pkg/util/legacy/", 1) if "pkg/util/" in old \
            else old.replace(".go", "_moved.go")
        commit("Move %s to %s" % (old, f.path), [(f.path, f.render())], [old])
    else:
        ch = []
        for f in rng.sample(files, rng.choice((1, 1, 2, 2, 3, 4))):
            r = rng.random()
            usable = [g for g in defs if g not in special]
            if r < 0.10 and usable:
                f.add(rng.choice(usable))
            elif r < 0.15 and f.gates():
                g = rng.choice(f.gates())
                f.blocks.remove(next(b for b in f.blocks if b[0] == "g" and b[1] == g))
            elif r < 0.25 and len(f.blocks) < 40:
                f.add()
            else:
                hs = [b for b in f.blocks if b[0] == "h"] or [f.blocks[0]]
                b = rng.choice(hs)
                if b[0] == "h":
                    b[2] = rng.randint(1, 999)
                else:
                    f.add()
            ch.append((f.path, f.render()))
        if rng.random() < 0.02 and alive:
            g = rng.choice(alive)
            defs[g] = STAGES[min(STAGES.index(defs[g]) + 1, 2)]
            ch.append((defpath, render_defs()))
        commit("Update %s" % ch[0][0].rsplit("/", 1)[-1], ch)
out.write(b"done\n")
EOF
}

if [ -n "${FLAGS_BENCH_REPO:-}" ]; then
	src=$FLAGS_BENCH_REPO
	git -C "$src" rev-parse --git-dir > /dev/null 2>&1 || { echo "bench: '$src' is not a git repository" >&2; exit 1; }
	gitdir=$(git -C "$src" rev-parse --path-format=absolute --git-common-dir)
	head=$(git -C "$src" rev-parse --verify 'HEAD^{commit}')
	repo=$work/repo.git
	git init -q --bare --initial-branch=main "$repo"
	echo "$gitdir/objects" > "$repo/objects/info/alternates"
	[ ! -f "$gitdir/shallow" ] || cp "$gitdir/shallow" "$repo/shallow"
	git -C "$repo" update-ref refs/heads/main "$head"
	what="$src (read-only, through objects/info/alternates)"
else
	repo=$work/generated.git
	start=$(now_ns)
	generate "$repo" "$commits"
	gen_ms=$(ms_since "$start")
	what="generated: $commits commits, git fast-import in $(secs "$gen_ms") s"
fi
fp=$(git -C "$repo" rev-list --first-parent --count HEAD)
printf 'repository: %s\n  HEAD %s, %s first-parent commits\n' "$what" \
	"$(git -C "$repo" rev-parse --short=12 HEAD)" "$fp"

# Every flag name ever defined on the first-parent line, for multiplying
# the per-flag baseline out. safedeploy prints no such list (its JSON counts
# the flags at the tip only; its cache is an internal format), so git finds
# them, independently of safedeploy:
#   1. every .go path where the number of "featuregate.Feature" ever changed
#      (-S; --no-renames, so a moved definitions file is a deletion and an
#      addition and both paths come out), outside vendor/, third_party/ and
#      node_modules/ like the preset;
#   2. the first-parent patches of those paths, oldest first: every added
#      line that matches the preset's definition pattern.
# A file that ever defined a gate is found by 1 when it gained its first
# definition; a gate renamed in place (same count, so invisible to 1) is an
# added line in 2.
start=$(now_ns)
git -C "$repo" log --first-parent --no-renames --format= --name-only \
	-S'featuregate.Feature' HEAD -- '*.go' ':(exclude,glob)**/vendor/**' \
	':(exclude,glob)**/third_party/**' ':(exclude,glob)**/node_modules/**' |
	sort -u | sed '/^$/d' > "$work/defpaths"
[ -s "$work/defpaths" ] || { echo "bench: no feature gate was ever defined in $what" >&2; exit 1; }
xargs -d '\n' git -C "$repo" log --first-parent --no-renames --reverse -p --format= HEAD -- < "$work/defpaths" |
	sed -nE 's/^\+[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)[[:space:]]+featuregate\.Feature[[:space:]]*=[[:space:]]*".*/\1/p' |
	awk '!seen[$0]++' > "$work/ever"
total=$(wc -l < "$work/ever")
[ "$total" -gt 0 ] || { echo "bench: no line of history matches the definition pattern" >&2; exit 1; }
printf '  %d flags ever defined (git log -S + -p over %d .go files: %s s)\n' "$total" \
	"$(wc -l < "$work/defpaths")" "$(secs "$(ms_since "$start")")"

# flags OUT: safedeploy flags --history with the JSON in OUT; exit 1 means
# findings, not a failure.
flags() {
	local out=$1 rc=0
	shift
	"$@" "$bin" flags -C "$repo" --rev HEAD --history --config "$work/flags.yml" --json > "$out" || rc=$?
	[ "$rc" -le 1 ] || { echo "bench: safedeploy flags failed (exit $rc)" >&2; exit 1; }
}

# (1) cold: no cache (the repository is new; removed anyway, to be sure);
# this run writes it.
cache=$(git -C "$repo" rev-parse --path-format=absolute --git-common-dir)/safedeploy
rm -rf "$cache"
flags "$work/cold.json" /usr/bin/time -f '%e %M' -o "$work/cold.time"
read -r cold_s cold_kb < <(tail -1 "$work/cold.time")
[ "$(jq '.history.cache' "$work/cold.json")" = false ] || { echo "bench: the cold run used a cache" >&2; exit 1; }

# (2) warm: the cache from (1), nothing new; best of $runs.
warm_ms=
for ((i = 0; i < runs; i++)); do
	start=$(now_ns)
	flags "$work/warm.json"
	t=$(ms_since "$start")
	if [ -z "$warm_ms" ] || [ "$t" -lt "$warm_ms" ]; then warm_ms=$t; fi
done
[ "$(jq -c '[.history.cache, .history."new-commits"]' "$work/warm.json")" = '[true,0]' ] ||
	{ echo "bench: the warm run did not use the cache: $(jq -c .history "$work/warm.json")" >&2; exit 1; }
same=yes
cmp -s <(jq -S .findings "$work/cold.json") <(jq -S .findings "$work/warm.json") || same="NO (differ!)"

# (3) the baseline: git log -S NAME per flag, for $nflags flags evenly
# spread over the flags ever defined (oldest to newest), multiplied out.
step=$((total > nflags ? total / nflags : 1))
base_ms=0 timed=0 base_kb=0
printf 'baseline: git log --first-parent --format=%%h -S NAME HEAD, %d of the %d flags\n' "$nflags" "$total"
for ((i = 0; i < total && timed < nflags; i += step)); do
	name=$(sed -n "$((i + 1))p" "$work/ever")
	start=$(now_ns)
	n=$(/usr/bin/time -f %M -o "$work/base.time" git -C "$repo" log --first-parent --format=%h -S"$name" HEAD | wc -l)
	t=$(ms_since "$start")
	kb=$(tail -1 "$work/base.time")
	[ "$kb" -le "$base_kb" ] || base_kb=$kb
	printf '  %-44s %8s s  %4d commits\n' "$name" "$(secs "$t")" "$n"
	base_ms=$((base_ms + t)) timed=$((timed + 1))
done
per_ms=$((base_ms / timed))
est_ms=$((per_ms * total))
printf '  mean %s s a flag (peak %s MB); for all flags %s s, estimated: per-flag time of %d flags × %d flags\n' \
	"$(secs "$per_ms")" "$(bench_mb "$base_kb")" "$(secs "$est_ms")" "$timed" "$total"

printf 'safedeploy flags --history --rev HEAD (kubernetes preset; cold = no cache of its own, the page cache is warm for both sides):\n'
printf '  %-44s %8s s  peak %s MB, %s\n' "cold (no cache, writes it)" "$cold_s" "$(bench_mb "$cold_kb")" \
	"$(jq -r '"\(.history.commits) commits, \(.scanned.flags) flags defined or used at HEAD"' "$work/cold.json")"
printf '  %-44s %8s s  best of %d\n' "warm (cache, nothing new)" "$(secs "$warm_ms")" "$runs"
printf '  findings: %s; cold and warm agree: %s\n' \
	"$(jq -r '[.findings[] | "\(.kind) (\(.severity))"] | group_by(.) | map("\(length) \(.[0])") | join(", ")' "$work/cold.json")" "$same"
[ -n "${FLAGS_BENCH_REPO:-}" ] ||
	echo "  planted: 3 resurrected (error), 1 resurrected (warning: a revert), 2 retired-but-referenced (error); a rename and 2 file moves that are no finding"

note=
[ -n "${FLAGS_BENCH_REPO:-}" ] || note=' (set for kueue; this repository is generated)'
if [ -n "${FLAGS_BENCH_REPO:-}" ]; then
	bench_setup "$src: $fp first-parent commits, $total flags ever defined; baseline: $timed flags timed, multiplied out; warm: best of $runs"
else
	bench_setup "generated repository of $fp first-parent commits, $total flags ever defined (targets set for kueue); baseline: $timed flags timed, multiplied out; warm: best of $runs"
fi
printf '\ntargets%s:\n' "$note"
bench_header
bench_result "cold scan, wall" "$cold_s" s "<" 15
bench_result "cold scan, peak RSS" "$(bench_mb "$cold_kb")" MB "<" 200
bench_result "warm re-run, wall" "$(awk -v ms="$warm_ms" 'BEGIN { printf "%.3f", ms / 1000 }')" s "<" 0.5
bench_result "baseline / cold scan" "$(awk -v b="$est_ms" -v c="$cold_s" 'BEGIN { printf "%.1f", b / 1000 / (c > 0 ? c : 0.01) }')" x ">=" 50 \
	"baseline estimated from $timed flags"
