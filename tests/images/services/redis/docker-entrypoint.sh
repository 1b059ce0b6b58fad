#!/usr/bin/env bash
# Entrypoint of the test Redis image. Same contract as the official redis:8 image's
# docker-entrypoint.sh (written anew for Debian's redis-server):
#   - a first argument starting with "-" or ending in ".conf" means "redis-server <args>";
#   - redis-server started as root (with CAP_SETUID/SETGID) fixes the owner of /data
#     (only when it holds nothing but *.rdb and appendonlydir; SKIP_FIX_PERMS=1 skips
#     it) and re-executes itself as user redis (uid 999) with no capabilities left
#     (SKIP_DROP_PRIVS=1 keeps root);
#   - umask 0077 unless another umask than 0022 was set;
#   - official binaries are built with protected-mode defaulting to "no"; Debian's
#     default is "yes", so "--protected-mode no" is added unless the command line or
#     the given config file sets protected-mode itself;
#   - modules in /usr/local/lib/redis/modules/ are loaded (none are shipped here);
#   - any other command is executed as is.
set -e

# (Debian links redis-server to redis-check-rdb: compare resolved paths)
REDIS_SERVER_BIN="$(readlink -f /usr/bin/redis-server)"
SETPRIV=(/usr/bin/setpriv --reuid redis --regid redis --clear-groups)

has_cap() {
	/usr/bin/setpriv -d | grep -q 'Capability bounding set:.*\b'"$1"'\b'
}

# make FILE... readable (r) or readable and writable (rw) by redis, when they are not
fix_perms_and_owner() {
	local mode="$1" file new_mode err
	while IFS= read -r -d '' file; do
		if [ "$mode" = rw ] && "${SETPRIV[@]}" test -r "$file" -a -w "$file"; then
			continue
		elif [ "$mode" = r ] && "${SETPRIV[@]}" test -r "$file"; then
			continue
		fi
		new_mode="$mode"
		[ -d "$file" ] && new_mode="${mode}x"
		err="$(chown redis "$file" 2>&1)" || echo "Warning: cannot change owner of '$file' to redis: $err. Use SKIP_FIX_PERMS=1 to skip permission changes."
		err="$(chmod "u+$new_mode" "$file" 2>&1)" || echo "Warning: cannot change mode of '$file' to u+$new_mode: $err. Use SKIP_FIX_PERMS=1 to skip permission changes."
	done
}

fix_data_dir_perms() {
	local unknown
	unknown="$(find . -mindepth 1 -maxdepth 1 \
		-not \( -name '*.rdb' -or \( -type d -and -name appendonlydir \) \) -print -quit)"
	if [ -z "$unknown" ]; then
		find . -print0 | fix_perms_and_owner rw
	else
		echo "Notice: unknown file '$unknown' in the data directory: permissions left alone. Use SKIP_FIX_PERMS=1 to skip permission changes."
	fi
}

fix_config_perms() {
	local config="$1" confdir pattern unknown
	[ -f "$config" ] || return 0
	confdir="$(dirname "$config")"
	pattern="$(printf '%s' "$(basename "$config")" | sed 's/[][?*]/\\&/g')"
	unknown="$(find "$confdir" -mindepth 1 -maxdepth 1 -not -name "$pattern" -print -quit)"
	if [ -z "$unknown" ]; then
		printf '%s\0%s\0' "$confdir" "$config" | fix_perms_and_owner r
	else
		echo "Notice: unknown file '$unknown' in '$confdir': permissions left alone. Use SKIP_FIX_PERMS=1 to skip permission changes."
	fi
}

if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

is_server=
is_sentinel=
config=
cmd="$(command -v "$1" 2>/dev/null || :)"
if [ -n "$cmd" ] && [ "$(readlink -f "$cmd")" = "$REDIS_SERVER_BIN" ]; then
	is_server=1
	case "$(basename "$cmd")" in redis-sentinel) is_sentinel=1 ;; esac
	for arg in "$@"; do [ "$arg" = --sentinel ] && is_sentinel=1; done
	if [ -n "${2:-}" ] && [ "${2#-}" = "$2" ]; then
		config="$2"
	fi
fi

if [ -n "$is_server" ] && [ -z "${SKIP_DROP_PRIVS:-}" ] && [ "$(id -u)" = 0 ] \
	&& has_cap setuid && has_cap setgid; then
	if [ -z "${SKIP_FIX_PERMS:-}" ]; then
		if [ -n "$is_sentinel" ]; then
			fix_config_perms "$config"
		else
			fix_data_dir_perms
			fix_config_perms "$config"
		fi
	fi
	keep=""
	if has_cap sys_resource; then
		keep=",+sys_resource"
	fi
	exec "${SETPRIV[@]}" --nnp --inh-caps="-all$keep" --ambient-caps="-all$keep" \
		--bounding-set="-all$keep" "$0" "$@"
fi

if [ "$(umask)" = 0022 ]; then
	umask 0077
fi

if [ -n "$is_server" ] && [ -z "$is_sentinel" ]; then
	# compiled-in default of the official image: protected-mode no
	set_by_user=
	for arg in "$@"; do [ "$arg" = --protected-mode ] && set_by_user=1; done
	if [ -n "$config" ] && [ -r "$config" ] && grep -Eqi '^[[:space:]]*protected-mode[[:space:]]' "$config"; then
		set_by_user=1
	fi
	if [ -z "$set_by_user" ]; then
		server="$1"; shift
		if [ -n "$config" ]; then
			shift
			set -- "$server" "$config" --protected-mode no "$@"
		else
			set -- "$server" --protected-mode no "$@"
		fi
	fi
	modules_dir=/usr/local/lib/redis/modules
	if [ -d "$modules_dir" ]; then
		for module in "$modules_dir"/*.so; do
			if [ -f "$module" ] && [ -s "$module" ] && [ -r "$module" ] && [ -x "$module" ]; then
				set -- "$@" --loadmodule "$module"
			fi
		done
	fi
fi

exec "$@"
