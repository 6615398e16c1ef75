#!/usr/bin/env bash
# Makes sure the local PostgreSQL has the pgvector extension, so the memory store's suite also runs
# on a real Postgres with pgvector (test/memory/store.test.ts, PANTHEON_TEST_PGVECTOR_URL).
#
# Debian bookworm packages no pgvector for PostgreSQL 15, so this builds the upstream release from
# Debian's own source package (trixie's pgvector, the unmodified upstream tarball): apt fetches it
# from the Debian archive and checks it against the archive's signed Sources index. The build needs
# postgresql-server-dev-<version>, make and a C compiler. Nothing is kept but the installed
# extension; apt's own lists are left as they were.
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

PSQL=(psql -X -q -t -A -h 127.0.0.1 -U postgres -d postgres)
available() { [ "$("${PSQL[@]}" -c "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'" 2>/dev/null)" = "1" ]; }

if available; then
  echo "pgvector: already available ($("${PSQL[@]}" -c "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'"))."
  exit 0
fi

PG_MAJOR="$("${PSQL[@]}" -c 'SHOW server_version_num' | cut -c1-2)"
echo "pgvector: not installed in PostgreSQL ${PG_MAJOR}; building it from Debian's source package."
PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config"
# pg_config alone can be there without the server headers (postgresql-server-dev ships them).
server_headers() { [ -x "$PG_CONFIG" ] && [ -f "$("$PG_CONFIG" --includedir-server)/postgres.h" ]; }
if ! server_headers || ! command -v make >/dev/null || ! command -v gcc >/dev/null; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-server-dev-${PG_MAJOR}" make gcc
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/src"
# A private apt state that knows only trixie's sources: the system's lists are not touched.
cat >"$work/sources.list" <<'EOF'
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
EOF
APT_OPTS=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=-" -o "Dir::State::Lists=$work/lists" -o "APT::Sandbox::User=root")
as_root apt-get "${APT_OPTS[@]}" update -qq
(cd "$work/src" && as_root apt-get "${APT_OPTS[@]}" source --download-only pgvector)
tarball="$(ls "$work"/src/pgvector_*.orig.tar.gz | head -n 1)"
echo "pgvector: building $(basename "$tarball")"
mkdir -p "$work/build"
tar -xzf "$tarball" -C "$work/build" --strip-components=1
# OPTFLAGS="": no -march=native, as Debian builds it.
make -s -C "$work/build" OPTFLAGS="" PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config" >/dev/null
as_root make -s -C "$work/build" OPTFLAGS="" PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config" install >/dev/null

available || { echo "pgvector: built and installed, but PostgreSQL does not list it" >&2; exit 1; }
echo "pgvector: installed ($("${PSQL[@]}" -c "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'"))."
