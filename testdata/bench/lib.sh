# lib.sh — shared by walkbench.sh and latbench.sh (sourced, not run). The
# caller defines log and die first.
# shellcheck shell=bash

# install_needed PKG...: apt-get install the packages named, if any (not
# with NO_INSTALL=1).
install_needed() {
	[ $# -gt 0 ] || return 0
	[ "${NO_INSTALL:-0}" = 1 ] && die "missing: $* (and NO_INSTALL=1)"
	log "installing $*"
	apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "$@" >/dev/null
}

# cpu_busy: percent of CPU time not idle over the next second, machine-wide.
cpu_busy() {
	local a b
	a=($(head -n 1 /proc/stat)); sleep 1; b=($(head -n 1 /proc/stat))
	awk -v a="${a[*]}" -v b="${b[*]}" 'BEGIN {
		split(a, x); split(b, y); t = 0
		for (i = 2; i <= 9; i++) t += y[i] - x[i]
		idle = (y[5] - x[5]) + (y[6] - x[6])
		printf "%d", (t > 0 ? 100 * (t - idle) / t : 0) }'
}

# wait_quiet SECONDS: the machine is shared and has 2 cores; do not time a
# run while something else (a build, a test suite) is eating them. Waits
# up to SECONDS (0: not at all) for the CPUs to be under 15% busy.
wait_quiet() {
	local max=$1 waited=0 busy
	[ "$max" -gt 0 ] || return 0
	while busy=$(cpu_busy); [ "$busy" -ge 15 ]; do
		if [ "$waited" -ge "$max" ]; then
			log "warning: CPUs still ${busy}% busy after ${waited}s; timing anyway"
			return 0
		fi
		[ "$waited" = 0 ] && log "waiting for the machine to be quiet (CPUs ${busy}% busy)"
		sleep 4; waited=$((waited + 5))
	done
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
maxof() { sort -g | tail -n 1; }
