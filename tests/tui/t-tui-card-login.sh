#!/bin/sh
# t-tui-card-login.sh: officers log in to cm-awb and cm-ra with smart
# cards (SoftHSM2 tokens as the cards, made by the ceremony's HSM variant):
# --officer with a PKCS#11 URI, the PIN typed into the masked field, a
# wrong PIN refused on the form, and the login dialog taking a URI.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/../regress/lib.sh"
# shellcheck source=tests/tui/lib-tui.sh
. "$top_srcdir/tests/tui/lib-tui.sh"
# shellcheck source=tests/regress/lib-hsm.sh
. "$top_srcdir/tests/regress/lib-hsm.sh"

plan 7

hsm_init
D=$T/ceremony
hsm_ceremony "$D"
unset CM_DB

tui_start 100 30 "$CMAWB" -c "$D/cm.conf" -d "$D/cm.db" \
    --officer pkcs11:token=Officer%201%20card
tui_see "cm-awb's login dialog has the card's URI filled in" \
    "pkcs11:token=Officer%201%20card"
tui_keys Tab
tui_type 9999
tui_keys Enter
tui_see "a wrong card PIN is refused on the form" \
    'token "Officer 1 card": wrong PIN'
tui_keys Tab C-u
tui_type 2222
tui_keys Enter
tui_see "the card's PIN logs the officer in" \
    "Officer Officer 1 (Security officers)"
tui_keys q
tui_exited
is "cm-awb quits" "$TUI_RC" 0
tui_stop

tui_start 100 30 "$CMRA" -c "$D/cm.conf" -d "$D/cm.db"
tui_see "cm-ra opens on its login dialog" "Officer token"
tui_type "pkcs11:token=Officer%202%20card"
tui_keys Tab
tui_type 3333
tui_keys Enter
tui_see "an officer logs in to cm-ra with a card URI typed in" \
    "Officer Officer 2 (Security officers)"
tui_keys q
tui_exited
is "cm-ra quits" "$TUI_RC" 0
done_testing
