# bash completion for safedeploy. Options per command mirror the commands'
# --help; tests/completions.bats checks that they agree.

# Fill COMPREPLY with compgen's words, one per line.
_safedeploy_reply() {
	mapfile -t COMPREPLY < <(compgen "$@")
}

_safedeploy() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmds="token verify probe flags hook config help"
	local global="--help --version --config --color"
	local common="--json --config --color --help"
	local cmd="" sub="" i w

	# The command and subcommand: the first words that are not options or
	# option values.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--config | --plan | -p | --ttl | --summary | --confirm | --url | -u | \
			--targets | --kubectl-json | --port | --path | --field | -f | \
			--expect | -e | --expect-commit | --same | --same-prefix | \
			--exactly-one | --min-targets | --allow-unreachable | \
			--concurrency | --timeout | --connect-timeout | --deadline | \
			--max-body | --cacert | --header | -H | --junit | --wait | \
			--interval | --on-fail | --namespace | -n | --selector | -l | \
			--k8s-api | --kubeconfig | --context | --chunk-size | --every | \
			--db | --out | --publish | --dns-server | --quorum | --directory | -C | \
			--rev | --sarif) ((i++)) ;;
		-*) ;;
		*) if [[ -z $cmd ]]; then cmd=$w; elif [[ -z $sub ]]; then sub=$w; fi ;;
		esac
	done

	case $prev in
	--config | --plan | -p | --targets | --kubectl-json | --cacert | --junit | \
		--kubeconfig | --db | --sarif)
		_safedeploy_reply -f -- "$cur"
		return
		;;
	--timeout | --connect-timeout | --deadline | --wait | --interval | --every)
		_safedeploy_reply -W "1s 2s 5s 30s 1m" -- "$cur"
		return
		;;
	--expect-commit | --rev)
		_safedeploy_reply -W "HEAD $(git for-each-ref --format='%(refname:short)' refs/heads refs/tags 2> /dev/null)" -- "$cur"
		return
		;;
	--url | -u | --port | --path | --field | -f | --expect | -e | --same | \
		--same-prefix | --exactly-one | --min-targets | --allow-unreachable | \
		--concurrency | --max-body | --header | -H | --on-fail | --selector | \
		-l | --k8s-api | --chunk-size | --publish | --dns-server | --quorum)
		return
		;;
	--namespace | -n)
		_safedeploy_reply -W "$(kubectl get namespaces -o name 2> /dev/null | sed 's|^namespace/||')" -- "$cur"
		return
		;;
	--context)
		_safedeploy_reply -W "$(kubectl config get-contexts -o name 2> /dev/null)" -- "$cur"
		return
		;;
	--ttl)
		_safedeploy_reply -W "30s 5m 15m 1h 1d" -- "$cur"
		return
		;;
	--summary | --confirm) return ;;
	--out | --directory | -C)
		_safedeploy_reply -d -- "$cur"
		return
		;;
	esac
	if [[ $cur == --color=* ]]; then
		_safedeploy_reply -W "--color=auto --color=always --color=never" -- "$cur"
		return
	fi

	case $cmd in
	"")
		if [[ $cur == -* ]]; then
			_safedeploy_reply -W "$global" -- "$cur"
		else
			_safedeploy_reply -W "$cmds" -- "$cur"
		fi
		;;
	help)
		if [[ -z $sub ]]; then
			_safedeploy_reply -W "token verify probe flags hook config" -- "$cur"
		elif [[ $sub == token ]]; then
			_safedeploy_reply -W "issue check redeem confirm" -- "$cur"
		elif [[ $sub == probe ]]; then
			_safedeploy_reply -W "run independence merge" -- "$cur"
		elif [[ $sub == flags ]]; then
			_safedeploy_reply -W "timeline" -- "$cur"
		fi
		;;
	token)
		case $sub in
		"")
			if [[ $cur == -* ]]; then
				_safedeploy_reply -W "--help" -- "$cur"
			else
				_safedeploy_reply -W "issue check redeem confirm" -- "$cur"
			fi
			;;
		issue) _safedeploy_reply -W "--plan --ttl $common" -- "$cur" ;;
		check | redeem) _safedeploy_reply -W "--plan $common" -- "$cur" ;;
		confirm) _safedeploy_reply -W "--plan --summary --confirm --ttl $common" -- "$cur" ;;
		esac
		;;
	verify)
		_safedeploy_reply -W "--allow-unreachable --cacert --chunk-size --color --concurrency --config --connect-timeout --context --deadline --exactly-one --expect --expect-commit --field --follow --header --help --insecure --interval --json --junit --k8s --k8s-api --kubeconfig --kubectl-json --max-body --min-targets --namespace --on-fail --path --port --same --same-prefix --selector --targets --timeout --url --via-api-proxy --wait" -- "$cur"
		;;
	probe)
		case $sub in
		"")
			if [[ $cur == -* ]]; then
				_safedeploy_reply -W "--help" -- "$cur"
			else
				_safedeploy_reply -W "run independence merge" -- "$cur"
			fi
			;;
		run) _safedeploy_reply -W "--once --every --db --out --publish $common" -- "$cur" ;;
		independence) _safedeploy_reply -W "--dns-server $common" -- "$cur" ;;
		merge)
			if [[ $cur == -* ]]; then
				_safedeploy_reply -W "--quorum --out $common" -- "$cur"
			else
				_safedeploy_reply -f -X '!*.json' -- "$cur"
			fi
			;;
		esac
		;;
	flags)
		case $sub in
		"")
			if [[ $cur == -* ]]; then
				_safedeploy_reply -W "--directory --rev --history --staged --sarif --no-cache $common" -- "$cur"
			else
				_safedeploy_reply -W "timeline" -- "$cur"
			fi
			;;
		timeline)
			[[ $cur == -* ]] && _safedeploy_reply -W "--directory --rev --no-cache $common" -- "$cur"
			;;
		esac
		;;
	hook)
		case $sub in
		"")
			if [[ $cur == -* ]]; then
				_safedeploy_reply -W "--directory --force --no-cache $common" -- "$cur"
			else
				_safedeploy_reply -W "install pre-commit pre-push" -- "$cur"
			fi
			;;
		install) _safedeploy_reply -W "--directory --force --help" -- "$cur" ;;
		pre-commit | pre-push) _safedeploy_reply -W "--directory --no-cache $common" -- "$cur" ;;
		esac
		;;
	config)
		_safedeploy_reply -W "--origin --keys $common" -- "$cur"
		;;
	esac
}
complete -F _safedeploy safedeploy
