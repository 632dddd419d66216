# Sourced by the rootfs builders (build-meshlite.sh, build-frr.sh): fetch_debs
# PKG... makes sure $DEB_DIR holds a .deb of each package (`apt-get download`,
# never installed on the host; kept and reused, so a rebuild needs no network),
# and deb_args PKG... prints the matching `--deb FILE` arguments for mkrootfs.
# Needs $DEB_DIR and the caller's log/die.

# Newest already-downloaded .deb of a package, or nothing.
find_deb() {
	ls "$DEB_DIR" | grep "^$1_.*\.deb\$" | sort -V | tail -n 1
}

fetch_debs() {
	command -v apt-get >/dev/null || die "apt-get not found: the rootfs is built from Debian packages"
	mkdir -p "$DEB_DIR"
	missing=
	for pkg in "$@"; do
		[ -n "$(find_deb "$pkg")" ] || missing="$missing $pkg"
	done
	if [ -z "$missing" ]; then
		log "reusing packages in $DEB_DIR"
		return 0
	fi
	log "downloading$missing into $DEB_DIR"
	# apt-get download writes into the current directory.
	if ! (cd "$DEB_DIR" && apt-get download $missing); then
		if [ "$(id -u)" = 0 ]; then
			log "download failed; running 'apt-get update' once (we are root) and retrying"
			apt-get update
			(cd "$DEB_DIR" && apt-get download $missing) ||
				die "apt-get download$missing failed even after apt-get update"
		else
			die "apt-get download$missing failed; if the package lists are empty, run 'sudo apt-get update' and retry"
		fi
	fi
}

deb_args() {
	for pkg in "$@"; do
		deb=$(find_deb "$pkg")
		[ -n "$deb" ] || die "$pkg: no .deb in $DEB_DIR after download"
		printf ' --deb %s/%s' "$DEB_DIR" "$deb"
	done
}
