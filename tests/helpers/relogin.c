/*
 * relogin.c: an officer logs in, out, and in again in one process, as in
 * cm-awb and cm-ra, with the PINs given on the command line (a test's own
 * throw-away PINs).  Prints one line per login: "ok" or the engine's
 * message.  Usage: relogin CMDB TOKEN PIN1 PIN2
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm.h"

static const char *pin;

static int
secret(void *arg, int kind, const char *prompt, int confirm, char *buf,
    size_t len)
{
	(void)arg;
	(void)kind;
	(void)prompt;
	(void)confirm;
	if (strlen(pin) >= len)
		return CM_ERR_INVAL;
	memcpy(buf, pin, strlen(pin) + 1);
	return 0;
}

static void
login(struct cm_ctx *ctx, const char *token, const char *p)
{
	int rc;

	pin = p;
	rc = cm_officer_login(ctx, token, NULL, 0);
	printf("%s\n", rc == 0 ? "ok" : cm_ctx_errmsg(ctx));
	if (rc == 0)
		cm_officer_logout(ctx, cm_officer_session(ctx, 0));
}

int
main(int argc, char *argv[])
{
	struct cm_ctx *ctx;
	struct cm_ui_ops ui = { secret, NULL };
	char *db = NULL;

	if (argc != 5) {
		fprintf(stderr, "usage: relogin CMDB TOKEN PIN1 PIN2\n");
		return 2;
	}
	if (cm_ctx_new(&ctx) != 0)
		return 1;
	cm_ctx_set_ui(ctx, &ui);
	if (cm_ctx_setup(ctx, NULL, argv[1], &db) != 0 ||
	    cm_db_open(ctx, db) != 0) {
		fprintf(stderr, "relogin: %s\n", cm_ctx_errmsg(ctx));
		return 1;
	}
	login(ctx, argv[2], argv[3]);
	login(ctx, argv[2], argv[4]);
	cm_free(db);
	cm_ctx_free(ctx);
	return 0;
}
