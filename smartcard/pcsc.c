/*
 * pcsc.c: card readers through PC/SC (pcsc-lite): the readers and their
 * cards, and waiting for a card to be inserted or removed, for the card
 * station.  A card's ATR says what it is; its keys are reached through
 * PKCS#11 (src/p11.c), not here.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <winscard.h>

#include "extern.h"

static int
pcsc_fail(struct cm_ctx *ctx, const char *what, LONG rv)
{
	if (rv == SCARD_E_NO_SERVICE || rv == SCARD_E_SERVICE_STOPPED)
		return cm_err(ctx, CM_ERR_TOKEN, "PC/SC: %s: the PC/SC service "
		    "(pcscd) is not running", what);
	if (rv == SCARD_E_NO_READERS_AVAILABLE)
		return cm_err(ctx, CM_ERR_TOKEN, "PC/SC: no card reader");
	return cm_err(ctx, CM_ERR_TOKEN, "PC/SC: %s: %s", what,
	    pcsc_stringify_error(rv));
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The readers, as a list of NUL-terminated names ending in an empty one. */
static int
readers(struct cm_ctx *ctx, SCARDCONTEXT h, char **list)
{
	DWORD len = 0;
	LONG rv;

	*list = NULL;
	rv = SCardListReaders(h, NULL, NULL, &len);
	if (rv == SCARD_S_SUCCESS) {
		if ((*list = calloc(1, len + 2)) == NULL)
			return CM_ERR_NOMEM;
		rv = SCardListReaders(h, NULL, *list, &len);
	}
	if (rv != SCARD_S_SUCCESS) {
		free(*list);
		*list = NULL;
		return pcsc_fail(ctx, "listing the readers", rv);
	}
	return 0;
}

static void
fill(struct cm_reader *r, const SCARD_READERSTATE *s)
{
	memset(r, 0, sizeof(*r));
	r->name = s->szReader;
	r->present = (s->dwEventState & SCARD_STATE_PRESENT) != 0;
	r->mute = (s->dwEventState & SCARD_STATE_MUTE) != 0;
	if (r->present && s->cbAtr > 0) {
		r->atr = s->rgbAtr;
		r->atr_len = s->cbAtr;
	}
}

/* The readers' states now: n states in *st (caller frees). */
static int
states(struct cm_ctx *ctx, SCARDCONTEXT h, char **list,
    SCARD_READERSTATE **st, size_t *n)
{
	const char *p;
	size_t i;
	LONG rv;
	int rc;

	*st = NULL;
	*n = 0;
	if ((rc = readers(ctx, h, list)) != 0)
		return rc;
	for (p = *list; *p != '\0'; p += strlen(p) + 1)
		(*n)++;
	if ((*st = calloc(*n + 1, sizeof(**st))) == NULL)
		return CM_ERR_NOMEM;
	for (i = 0, p = *list; i < *n; i++, p += strlen(p) + 1) {
		(*st)[i].szReader = p;
		(*st)[i].dwCurrentState = SCARD_STATE_UNAWARE;
	}
	rv = SCardGetStatusChange(h, 0, *st, (DWORD)*n);
	if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT)
		return pcsc_fail(ctx, "reading the readers", rv);
	return 0;
}

/* Call cb for every card reader, with its card (if one is in it). */
int
cm_pcsc_readers(struct cm_ctx *ctx, cm_reader_cb cb, void *arg)
{
	SCARDCONTEXT h;
	SCARD_READERSTATE *st = NULL;
	struct cm_reader r;
	char *list = NULL;
	size_t n = 0, i;
	LONG rv;
	int rc;

	if ((rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL,
	    &h)) != SCARD_S_SUCCESS)
		return pcsc_fail(ctx, "connecting", rv);
	rc = states(ctx, h, &list, &st, &n);
	for (i = 0; rc == 0 && i < n; i++) {
		fill(&r, &st[i]);
		rc = cb(arg, &r);
	}
	free(st);
	free(list);
	SCardReleaseContext(h);
	return rc < 0 ? rc : 0;
}

/*
 * Wait until a card is in a reader (present set) or no card is (present
 * clear): the reader named (NULL: any reader), for at most timeout_ms
 * milliseconds (negative: for ever).  What holds already returns at once.
 * Returns 0 with the reader, and a card's ATR, in *ev; CM_ERR_TIMEOUT; or
 * CM_ERR_TOKEN (no pcscd, no reader).
 */
int
cm_pcsc_wait(struct cm_ctx *ctx, const char *reader, int present,
    int timeout_ms, struct cm_card_event *ev)
{
	SCARDCONTEXT h;
	SCARD_READERSTATE *st = NULL;
	char *list = NULL;
	size_t n = 0, i;
	DWORD tmo = timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms;
	long elapsed;
	int64_t start = now_ms();
	LONG rv;
	int rc, found = 0, have;

	memset(ev, 0, sizeof(*ev));
	if ((rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL,
	    &h)) != SCARD_S_SUCCESS)
		return pcsc_fail(ctx, "connecting", rv);
	if ((rc = states(ctx, h, &list, &st, &n)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (reader != NULL && strcmp(st[i].szReader, reader) != 0)
			st[i].dwCurrentState = SCARD_STATE_IGNORE;
		else {
			found = 1;
			st[i].dwCurrentState = st[i].dwEventState &
			    ~(DWORD)SCARD_STATE_CHANGED;
		}
	}
	if (!found) {
		rc = cm_err(ctx, CM_ERR_NOTFOUND, "PC/SC: no reader \"%s\"",
		    reader != NULL ? reader : "");
		goto out;
	}
	for (;;) {
		for (i = 0; i < n; i++) {
			if (st[i].dwCurrentState == SCARD_STATE_IGNORE)
				continue;
			have = (st[i].dwCurrentState & SCARD_STATE_PRESENT) !=
			    0;
			if (have == (present != 0)) {
				snprintf(ev->reader, sizeof(ev->reader), "%s",
				    st[i].szReader);
				ev->present = have;
				if (have && st[i].cbAtr <= sizeof(ev->atr)) {
					memcpy(ev->atr, st[i].rgbAtr,
					    st[i].cbAtr);
					ev->atr_len = st[i].cbAtr;
				}
				rc = 0;
				goto out;
			}
		}
		if (timeout_ms >= 0) {
			/* What is left of the time: other changes wake us. */
			elapsed = (long)((now_ms() - start));
			tmo = elapsed >= timeout_ms ? 0 :
			    (DWORD)(timeout_ms - elapsed);
		}
		rv = SCardGetStatusChange(h, tmo, st, (DWORD)n);
		if (rv == SCARD_E_TIMEOUT) {
			rc = cm_err(ctx, CM_ERR_TIMEOUT, "PC/SC: no card was %s "
			    "in %d ms", present ? "inserted" : "removed",
			    timeout_ms);
			goto out;
		}
		if (rv != SCARD_S_SUCCESS) {
			rc = pcsc_fail(ctx, "waiting for a card", rv);
			goto out;
		}
		for (i = 0; i < n; i++)
			if (st[i].dwCurrentState != SCARD_STATE_IGNORE)
				st[i].dwCurrentState = st[i].dwEventState &
				    ~(DWORD)SCARD_STATE_CHANGED;
	}
out:
	free(st);
	free(list);
	SCardReleaseContext(h);
	return rc;
}
