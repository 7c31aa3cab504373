# Helpers of the suites that install this build into a container and run
# huddle there (huddle-gen.sh, huddle-fetch.sh), and the container helpers
# (container.sh) they use. Expects BUILD (the build directory).
. "$(dirname "${BASH_SOURCE[0]}")/container.sh"

# Install the build into the booted container, with huddle's system user.
ct_install_build() {  # [BUILD_DIR]
  meson install -C "${1:-$BUILD}" --no-rebuild --quiet --destdir "$CT_DIR/root" >/dev/null || fail "meson install of ${1:-$BUILD} into the container failed" || return 1
  ct systemd-sysusers >/dev/null
  ct systemctl daemon-reload
}

# Write a config inside the container, as an operator would: whole, at once.
put() { ct sh -c "mkdir -p /etc/huddle && cat > /etc/huddle/$1.tmp && mv /etc/huddle/$1.tmp /etc/huddle/$1"; }
