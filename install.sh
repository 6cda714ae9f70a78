#!/usr/bin/env bash
# Installs what Ancla needs on a Debian/Ubuntu machine (Bun, Docker engine, git), builds the
# single executable ./ancla and puts it on PATH. Safe to run again: present tools are kept.
#   ./install.sh                          build and install the binary
#   ./install.sh --service [serve flags]  also run it as a systemd service (ancla service install)
set -euo pipefail

SERVICE=0
if [ "${1:-}" = "--service" ]; then SERVICE=1; shift; fi
SERVE_FLAGS=("$@")
if [ "$SERVICE" -eq 0 ] && [ "$#" -gt 0 ]; then
  printf 'usage: ./install.sh [--service [ancla serve flags...]]\n' >&2
  exit 2
fi

BUN_VERSION="1.4.4"
cd "$(dirname "$0")"

say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

# Root, or sudo that works (without a password, or with a terminal to ask for one).
SUDO=()
if [ "$(id -u)" -ne 0 ] && have sudo; then
  if sudo -n true 2>/dev/null || [ -t 0 ]; then SUDO=(sudo); fi
fi
can_admin() { [ "$(id -u)" -eq 0 ] || [ "${#SUDO[@]}" -gt 0 ]; }

APT_UPDATED=0
apt_install() {
  have apt-get || die "apt-get not found: install $* with your package manager, then run ./install.sh again"
  can_admin || die "installing $* needs root: run ./install.sh as root or with sudo available"
  if [ "$APT_UPDATED" -eq 0 ]; then
    say "apt-get update"
    "${SUDO[@]}" apt-get update -qq
    APT_UPDATED=1
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "$@"
}

ensure_bun() {
  if ! have bun && [ -x "$HOME/.bun/bin/bun" ]; then export PATH="$HOME/.bun/bin:$PATH"; fi
  if have bun; then
    local v; v="$(bun --version)"
    say "bun $v found"
    [ "$v" = "$BUN_VERSION" ] || warn "Ancla is tested with bun $BUN_VERSION; you have $v"
    return
  fi
  if have npm; then
    say "installing bun $BUN_VERSION with npm"
    if [ -w "$(npm prefix -g)/lib" ] || [ "$(id -u)" -eq 0 ]; then npm i -g "bun@$BUN_VERSION"; else "${SUDO[@]}" npm i -g "bun@$BUN_VERSION"; fi
  else
    say "installing bun $BUN_VERSION with the official installer (bun.sh)"
    have curl || apt_install curl ca-certificates
    have unzip || apt_install unzip
    curl -fsSL https://bun.sh/install | bash -s "bun-v$BUN_VERSION"
    export PATH="$HOME/.bun/bin:$PATH"
  fi
  have bun || die "bun was installed but is not on PATH; open a new shell and run ./install.sh again"
}

docker_ready() { docker info >/dev/null 2>&1 || { can_admin && "${SUDO[@]}" docker info >/dev/null 2>&1; }; }

ensure_docker() {
  if have docker; then say "docker found"; else apt_install docker.io; fi
  if docker_ready; then say "docker engine is running"; else start_dockerd; fi
  if ! docker info >/dev/null 2>&1; then
    warn "$(id -un) cannot use the Docker socket yet; run: sudo usermod -aG docker $(id -un)  (then log in again)"
  fi
}

start_dockerd() {
  can_admin || die "the Docker engine is not running and starting it needs root"
  say "starting the Docker engine"
  if [ -d /run/systemd/system ] && have systemctl; then
    "${SUDO[@]}" systemctl enable --now docker >/dev/null
  elif have service && "${SUDO[@]}" service docker start >/dev/null 2>&1; then
    :
  else
    # no init system (containers, minimal VMs): run dockerd in the background
    "${SUDO[@]}" sh -c 'nohup dockerd >/var/log/dockerd.log 2>&1 &'
  fi
  for _ in $(seq 1 60); do
    docker_ready && { say "docker engine is running"; return; }
    sleep 1
  done
  die "the Docker engine did not start within 60 s (see /var/log/dockerd.log or journalctl -u docker)"
}

INSTALLED=""
install_binary() {
  local dir="${ANCLA_INSTALL_DIR:-}"
  local as=()
  if [ -z "$dir" ]; then
    if [ -w /usr/local/bin ]; then dir=/usr/local/bin
    # a service cannot run a binary from a home directory (ProtectHome): a system path, as root
    elif [ "$SERVICE" -eq 1 ] && can_admin; then dir=/usr/local/bin; as=("${SUDO[@]}")
    else dir="$HOME/.local/bin"; fi
  fi
  "${as[@]}" mkdir -p "$dir"
  # copy to a temp name and rename, so a running ancla is never overwritten in place
  "${as[@]}" cp ancla "$dir/.ancla.new" && "${as[@]}" chmod 0755 "$dir/.ancla.new" && "${as[@]}" mv -f "$dir/.ancla.new" "$dir/ancla"
  say "installed $dir/ancla"
  INSTALLED="$dir/ancla"
  case ":$PATH:" in
    *":$dir:"*) ;;
    *) warn "$dir is not on your PATH; add it with: export PATH=\"$dir:\$PATH\" (e.g. in ~/.profile)" ;;
  esac
}

ensure_bun
have git || apt_install git
ensure_docker
say "bun install"
bun install
say "bun run build"
bun run build
install_binary
if [ "$SERVICE" -eq 1 ]; then
  # the service runs the installed binary as the `ancla` user with its data in /var/lib/ancla;
  # without systemd, `service install` changes nothing and prints what to run instead
  can_admin || die "installing the service needs root: run ./install.sh --service as root or with sudo available"
  say "ancla service install ${SERVE_FLAGS[*]}"
  "${SUDO[@]}" "$INSTALLED" service install "${SERVE_FLAGS[@]}"
else
  say "done. Start the server with: ancla serve   (first start prints the admin password)"
fi
