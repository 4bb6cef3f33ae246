/*
 * tui.h: the widget layer of cm-awb and cm-ra.  ui/tui is the only code
 * that includes curses; the screens in ui/awb and ui/ra describe views,
 * actions and forms with the structures below and call the engine.
 *
 * A screen is a set of views (the nodes of the AWB's tree, the tabs of
 * the RA).  A view is a list paged from the engine, a detail pane for its
 * current row, and actions bound to keys.  Forms are arrays of fields
 * with inline validation; dialogs are modal.  The status line shows the
 * last error, or the cmctl command that does what the last action did.
 */
#ifndef TUI_H
#define TUI_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cm.h"

/* Keys the screens bind, beyond printable letters. */
#define TUI_KEY_ENTER	0x1000
#define TUI_KEY_DELETE	0x1001
#define TUI_KEY_F(n)	(0x1100 + (n))

/* One row of a list: an id and a key for paging, the line shown. */
struct tui_row {
	int64_t	 id;
	char	*key;		/* the row's name, serial or sort key */
	char	*text;		/* the line, columns padded */
	char	*aux;		/* a second key (a subject for paging) */
};

struct tui_rows {
	struct tui_row	*v;
	size_t		 n;
	size_t		 cap;
};

struct tui;
struct tui_view;

/* An action of a view, bound to a key. */
struct tui_action {
	int		 key;		/* 'n', TUI_KEY_ENTER, TUI_KEY_F(5) */
	const char	*keyname;	/* as the help screen shows it */
	const char	*label;		/* a word or two for the hints line */
	const char	*help;		/* one line for the help screen */
	int		 needs_row;	/* only with a current row */
	void		(*fn)(struct tui *, struct tui_view *,
			    const struct tui_row *);
};

/*
 * A view.  fetch() appends at most n rows to out, after the row after
 * (NULL: from the start) or, with backward, before it, nearest first.
 * A view without paging fetches everything when after is NULL and
 * nothing else.  detail() writes the detail of a row as text lines.
 */
struct tui_view {
	const char		*name;		/* tree node or tab title */
	const char		*header;	/* the list's column titles */
	int			 depth;		/* indent in the tree */
	int			 paged;		/* fetch pages as it scrolls */
	int			(*fetch)(struct tui *, struct tui_view *,
				    const struct tui_row *, int, size_t,
				    struct tui_rows *);
	int			(*detail)(struct tui *, struct tui_view *,
				    const struct tui_row *, char **);
	const struct tui_action	*actions;
	const char		*empty;		/* when the list is empty */
	const char		*filter;	/* a state the list shows */
	/* Kept by the widget layer. */
	struct tui_rows		 rows;
	size_t			 top, cur;
	int			 at_start, at_end, loaded;
};

/* Form fields. */
enum tui_field_kind {
	TUI_TEXT,	/* free text */
	TUI_SECRET,	/* masked: a PIN or passphrase */
	TUI_CHOICE,	/* one of choices */
	TUI_NOTE	/* a line of text, not a field */
};

struct tui_field {
	const char		*label;
	enum tui_field_kind	 kind;
	const char * const	*choices;	/* TUI_CHOICE; NULL ends */
	int			 required;
	/* Inline validation: 0, or -1 with a one-line message in err. */
	int			(*check)(struct tui *, const char *, char *,
				    size_t);
	const char		*help;		/* while the field is on */
	char			 value[512];	/* in: the default; out */
};

struct tui_app {
	const char		*name;		/* "cm-awb" */
	const char		*title;		/* as "Workbench" */
	struct tui_view		**views;
	size_t			 nviews;
	int			 tabs;		/* views as tabs, not a tree */
	const struct tui_action	*global;	/* keys of every view */
};

/* The cmctl command of the last action, for the status line. */
struct tui_cmd {
	char	buf[2048];
};

/* Names for a choice field, NULL-terminated. */
struct tui_names {
	char	**v;
	size_t	  n;
};

enum tui_names_kind {
	TUI_N_KEYS,
	TUI_N_CAS,
	TUI_N_PROCEDURES,
	TUI_N_SOFT_PROCEDURES,
	TUI_N_CARD_PROCEDURES,
	TUI_N_PROFILES
};

/* tui.c */
int	tui_init(struct tui **, struct cm_ctx *, const struct tui_app *);
void	tui_end(struct tui *);
void	tui_run(struct tui *);
struct cm_ctx *tui_ctx(struct tui *);
void	tui_header(struct tui *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	tui_status(struct tui *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	tui_error(struct tui *, int);
void	tui_status_error(struct tui *);
void	tui_command(struct tui *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	tui_refresh(struct tui *, struct tui_view *);
void	tui_refresh_all(struct tui *);
void	tui_select(struct tui *, struct tui_view *);
struct tui_view *tui_current(struct tui *);
void	tui_set_secret(struct tui *, const char *);
void	tui_redraw(struct tui *);

/* rows.c */
int	tui_rows_add(struct tui_rows *, int64_t, const char *, const char *,
	    ...) __attribute__((format(printf, 4, 5)));
void	tui_rows_clear(struct tui_rows *);
int	tui_rows_aux(struct tui_rows *, const char *);
char	*tui_shell_quote(const char *);
const char *tui_q(const char *);
char	*tui_when(time_t, char *, size_t);
int	tui_text_add(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* form.c */
int	tui_form(struct tui *, const char *, struct tui_field *, size_t);
void	tui_form_wipe(struct tui_field *, size_t);
void	tui_message(struct tui *, const char *, const char *);
int	tui_confirm(struct tui *, const char *, const char *);
int	tui_wait(struct tui *, const char *, const char *, int (*)(void *),
	    void *);
int	tui_menu(struct tui *, const char *, const char * const *, size_t,
	    size_t);
int	tui_secret(struct tui *, const char *, int, char *, size_t);
void	tui_pager(struct tui *, const char *, const char *);

/* front.c */
void	tui_cmd_add(struct tui_cmd *, const char *, const char *);
void	tui_cmd_word(struct tui_cmd *, const char *);
int	tui_names(struct cm_ctx *, enum tui_names_kind, const char *,
	    struct tui_names *);
int	tui_names_add(struct tui_names *, const char *);
void	tui_names_free(struct tui_names *);
void	tui_header_update(struct tui *);
const char *tui_login(struct tui *, const char *, const char *);
int	tui_session(struct tui *, const char *);
int	tui_options(const char *, int, char **, struct cm_ctx **, char **,
	    const char **);
int	tui_check_new_file(struct tui *, const char *, char *, size_t);
int	tui_check_dn(struct tui *, const char *, char *, size_t);
int	tui_check_san(struct tui *, const char *, char *, size_t);
int	tui_check_duration(struct tui *, const char *, char *, size_t);
int	tui_check_int(struct tui *, const char *, char *, size_t);
int	tui_check_name(struct tui *, const char *, char *, size_t);
void	tui_relogin(struct tui *, struct tui_view *, const struct tui_row *);
int	tui_procedures_fetch(struct tui *, struct tui_view *,
	    const struct tui_row *, int, size_t, struct tui_rows *);
int	tui_procedures_detail(struct tui *, struct tui_view *,
	    const struct tui_row *, char **);
int	tui_save(struct tui *, const char *, const void *, size_t, int);
int	tui_save_retry(struct tui *, const char *, char *, size_t,
	    const void *, size_t, int);

#endif /* TUI_H */
