# bash completion for huddlectl                            -*- shell-script -*-
#
# Completes subcommands, options, config directories after -c/--config-dir,
# config files for validate, show and plan, app names (config file names without
# their extension, from -c DIRs, else $HUDDLE_CONFIG_PATH, else /etc/huddle,
# /run/huddle, /usr/lib/huddle) and, for rollback --to, the commits of the
# releases still on disk.

# _huddlectl_apps DIR...: the apps configured in DIRs, highest precedence
# first, one per line. As huddle reads them: files starting with '_' or '.'
# are ignored, and an empty file or a link to /dev/null masks the app of
# that name in the directories below.
_huddlectl_apps() {
    local -A seen=()
    local d f base name restore
    restore=$(shopt -p nullglob failglob)
    shopt -s nullglob
    shopt -u failglob
    for d in "$@"; do
        # A literal ~ as typed on the command line.
        # shellcheck disable=SC2088
        [[ $d == "~" || $d == "~/"* ]] && d=$HOME${d#\~}
        for f in "$d"/*.json "$d"/*.ini "$d"/*.toml; do
            base=${f##*/}
            [[ $base == [_.]* ]] && continue
            name=${base%.*}
            [[ -n $name && -z ${seen[$name]+set} ]] || continue
            seen[$name]=1
            [[ -s $f ]] && printf '%s\n' "$name"
        done
    done
    eval "$restore"
}

# _huddlectl_add WORD...: add the WORDs that start with $cur to COMPREPLY.
_huddlectl_add() {
    local w
    for w in "$@"; do
        [[ $w == "$cur"* ]] && COMPREPLY+=("$w")
    done
}

_huddlectl_dirs() {
    local d
    compopt -o filenames 2>/dev/null
    while IFS= read -r d; do
        COMPREPLY+=("$d")
    done < <(compgen -d -- "$cur")
}

# Config files (.json, .ini, .toml) and directories.
_huddlectl_files() {
    local f
    compopt -o filenames 2>/dev/null
    while IFS= read -r f; do
        [[ -d $f || $f == *.json || $f == *.ini || $f == *.toml ]] && COMPREPLY+=("$f")
    done < <(compgen -f -- "$cur")
}

_huddlectl() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev='' prev2='' pre=''
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    ((COMP_CWORD > 1)) && prev2=${COMP_WORDS[COMP_CWORD - 2]}
    COMPREPLY=()

    # "--opt=value": with '=' in COMP_WORDBREAKS, bash splits it into
    # "--opt", "=", "value".
    if [[ $cur == "=" && $prev == --* ]]; then
        prev2=$prev prev="=" cur=
    fi
    [[ $prev == "=" ]] && prev=$prev2
    if [[ $cur == --*=* ]]; then
        # Not split (no '=' in COMP_WORDBREAKS): complete the value, and
        # keep "--opt=" in front of each candidate.
        pre=${cur%%=*}= prev=${cur%%=*} cur=${cur#*=}
    fi
    _huddlectl_complete
    if [[ -n $pre ]]; then
        local k
        for k in "${!COMPREPLY[@]}"; do COMPREPLY[k]=$pre${COMPREPLY[k]}; done
    fi
    return 0
}

# The body of _huddlectl, with $cur, $prev and $prev2 set; fills COMPREPLY.
_huddlectl_complete() {
    local subcommands="validate show plan status deploy rollback history"
    local sub='' w i in_dirs=0 skip=0
    local -a dirs=() args=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if ((skip)); then
            skip=0
            [[ $w == "=" ]] && skip=1
            [[ -z $sub && $w != "=" ]] && dirs+=("$w")
            continue
        fi
        if [[ -z $sub ]]; then
            case $w in
            -c | --config-dir) in_dirs=1 skip=1 ;;
            --config-dir=*) in_dirs=1 dirs+=("${w#*=}") ;;
            -c?*) in_dirs=1 dirs+=("${w#-c}") ;;
            -*) in_dirs=0 ;;
            *)
                if [[ " $subcommands " == *" $w "* ]]; then
                    sub=$w
                elif ((in_dirs)); then
                    # -c takes several directories, as in -c DIR1 DIR2.
                    dirs+=("$w")
                fi
                ;;
            esac
        else
            case $w in
            --to) skip=1 ;;
            -*) ;;
            *) args+=("$w") ;;
            esac
        fi
    done

    if [[ -z $sub ]]; then
        case $prev in
        -c | --config-dir)
            _huddlectl_dirs
            return 0
            ;;
        esac
        if [[ $cur == -* ]]; then
            _huddlectl_add -c --config-dir -h --help --version
        else
            # shellcheck disable=SC2086
            _huddlectl_add $subcommands
        fi
        return 0
    fi

    if ((${#dirs[@]} == 0)); then
        if [[ -n ${HUDDLE_CONFIG_PATH:-} ]]; then
            IFS=: read -r -a dirs <<<"$HUDDLE_CONFIG_PATH"
        else
            dirs=(/etc/huddle /run/huddle /usr/lib/huddle)
        fi
    fi

    if [[ $sub == rollback && $prev == --to ]]; then
        # Commits of the releases on disk: /var/lib/huddle/APP/releases/COMMIT.
        if ((${#args[@]})); then
            local r restore
            restore=$(shopt -p nullglob failglob)
            shopt -s nullglob
            shopt -u failglob
            for r in "${HUDDLE_STATE_DIR:-/var/lib/huddle}/${args[0]}/releases"/*/; do
                r=${r%/}
                r=${r##*/}
                [[ $r == *.tmp ]] || _huddlectl_add "$r"
            done
            eval "$restore"
        fi
        return 0
    fi

    if [[ $cur == -* ]]; then
        case $sub in
        show | plan | status) _huddlectl_add --json -h --help ;;
        rollback) _huddlectl_add --to -h --help ;;
        *) _huddlectl_add -h --help ;;
        esac
        return 0
    fi

    local -a apps=()
    mapfile -t apps < <(_huddlectl_apps "${dirs[@]}")
    case $sub in
    validate)
        _huddlectl_files
        ;;
    plan | status)
        if [[ $sub == plan && ($cur == */* || $cur == .* || $cur == "~"*) ]]; then
            _huddlectl_files
            return 0
        fi
        local a g given
        for a in "${apps[@]}"; do
            given=0
            for g in "${args[@]}"; do [[ $g == "$a" ]] && given=1; done
            ((given)) || _huddlectl_add "$a"
        done
        ;;
    show)
        # One app, or a config file's path (a Huddle-era file not installed yet).
        ((${#args[@]} == 0)) || return 0
        if [[ $cur == */* || $cur == .* || $cur == "~"* ]]; then
            _huddlectl_files
        else
            _huddlectl_add "${apps[@]}"
        fi
        ;;
    deploy | rollback | history)
        ((${#args[@]} == 0)) && _huddlectl_add "${apps[@]}"
        ;;
    esac
    return 0
}

complete -F _huddlectl huddlectl
