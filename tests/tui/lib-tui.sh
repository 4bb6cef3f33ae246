# lib-tui.sh: drive cm-awb and cm-ra in tmux for the TUI tests.  Sourced
# after tests/regress/lib.sh, never run.
# shellcheck shell=sh
#
#   tui_start COLS ROWS CMD...  a tmux server of our own ($T/tmux.sock),
#                               one window of that size running CMD
#   tui_keys KEY...             tmux send-keys (names as tmux knows them)
#   tui_type TEXT               send TEXT literally
#   tui_screen                  the screen as text, to $T/screen
#   tui_wait TEXT [SECONDS]     wait until the screen shows TEXT (fixed
#                               string); 1 and the screen in the log if not
#   tui_see DESC TEXT           a TAP result: the screen shows TEXT
#   tui_gone DESC TEXT          a TAP result: it does not (after a moment)
#   tui_exited                  wait for the program to end; $TUI_RC
#   tui_resize COLS ROWS
#
# The tmux server is stopped by its process id when the test ends.

if ! command -v tmux >/dev/null 2>&1; then
	echo "1..0 # SKIP tmux is not installed (scripts/setup installs it)"
	exit 0
fi
CMAWB=${CMAWB:-$top_builddir/cm-awb}
CMRA=${CMRA:-$top_builddir/cm-ra}
TUI_SOCK=$T/tmux.sock

_tmux() {
	# fd 9 may be a lock of the test's (lib-pcsc.sh): not the server's.
	tmux -S "$TUI_SOCK" -f /dev/null "$@" 9>&-
}

tui_start() {
	_cols=$1
	_rows=$2
	shift 2
	# The program runs in a shell that records its exit status.
	printf '%s\n' "$*" >"$T/tui.cmd"
	rm -f "$T/tui.rc"
	_tmux new-session -d -s tui -x "$_cols" -y "$_rows" \
	    "env LANG=C.UTF-8 LC_ALL=C.UTF-8 $*; echo \$? >'$T/tui.rc'; sleep 600" ||
	    die "tmux new-session failed"
	_tmux set-option -g remain-on-exit off >/dev/null 2>&1
	TUI_SERVER=$(_tmux display-message -p '#{pid}')
	[ -n "$TUI_SERVER" ] && bg_track "$TUI_SERVER"
}

tui_keys() {
	_tmux send-keys -t tui "$@"
}

tui_type() {
	_tmux send-keys -t tui -l -- "$1"
}

# tui_sgr: the screen with its attributes (escape sequences), to $T/sgr.
tui_sgr() {
	_tmux capture-pane -e -p -t tui >"$T/sgr" 2>/dev/null
}

tui_screen() {
	_tmux capture-pane -p -t tui >"$T/screen" 2>/dev/null
	cat "$T/screen"
}

tui_wait() {
	_n=$(( ${2:-10} * 10 ))
	while [ "$_n" -gt 0 ]; do
		if tui_screen | grep -Fq -- "$1"; then
			return 0
		fi
		sleep 0.1
		_n=$((_n - 1))
	done
	diag "the screen does not show '$1':"
	diag_file "$T/screen" 60
	return 1
}

tui_see() {
	if tui_wait "$2" "${3:-10}"; then
		pass "$1"
	else
		fail "$1"
	fi
}

tui_gone() {
	sleep 0.5
	if tui_screen | grep -Fq -- "$2"; then
		fail "$1"
		diag "the screen still shows '$2':"
		diag_file "$T/screen" 60
	else
		pass "$1"
	fi
}

tui_exited() {
	_n=100
	while [ ! -s "$T/tui.rc" ] && [ "$_n" -gt 0 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	TUI_RC=$(cat "$T/tui.rc" 2>/dev/null || echo none)
}

tui_resize() {
	_tmux resize-window -t tui -x "$1" -y "$2"
}

# tui_wait_line N TEXT [SECONDS]: wait until line N of the screen shows
# TEXT (after a resize the program redraws when it has the signal).
tui_wait_line() {
	_n=$(( ${3:-10} * 10 ))
	while [ "$_n" -gt 0 ]; do
		if tui_screen | sed -n "$1p" | grep -Fq -- "$2"; then
			return 0
		fi
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# tui_stop: stop the tmux server by its pid and wait until it is gone, so
# that the next tui_start gets a server of its own on the socket.
tui_stop() {
	if [ -n "${TUI_SERVER:-}" ]; then
		kill "$TUI_SERVER" 2>/dev/null
		_n=100
		while kill -0 "$TUI_SERVER" 2>/dev/null && [ "$_n" -gt 0 ]; do
			sleep 0.1
			_n=$((_n - 1))
		done
		bg_untrack "$TUI_SERVER"
		TUI_SERVER=
	fi
	rm -f "$TUI_SOCK"
}
