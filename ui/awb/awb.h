/*
 * awb.h: cm-awb, the Administrator's Workbench.
 */
#ifndef AWB_H
#define AWB_H

#include "tui.h"

/* An engine call that makes a policy change, and its request. */
typedef int (*awb_change_fn)(struct cm_ctx *, const void *);

/* awb.c */
int	awb_submit(struct tui *, awb_change_fn, const void *,
	    const struct tui_cmd *);
void	awb_verify(struct tui *);
void	awb_tools(struct tui *, struct tui_view *, const struct tui_row *);

/* awb-views.c */
extern struct tui_view	*awb_views[];
extern const size_t	 awb_nviews;
extern struct tui_view	 awb_view_audit;

#endif /* AWB_H */
