/*
 * p11.h: the PKCS#11 layer's own structures, for the files that call a
 * module's functions (p11.c, hw.c, card.c).  Includes p11-kit's pkcs11.h.
 */
#ifndef CM_P11_H
#define CM_P11_H

#include <p11-kit/pkcs11.h>

struct p11_module {
	char			*path;
	void			*dl;
	CK_FUNCTION_LIST	*f;
	int			 initialized;	/* by us: finalize at the end */
	struct p11_module	*next;
};

struct p11_tok {
	struct p11_module	*mod;
	CK_SLOT_ID		 slot;
	CK_SESSION_HANDLE	 session;
	int			 rw;
	int			 login;		/* 0 none, 1 user, 2 SO */
	char			 label[33];
	char			 serial[17];
	char			 model[17];
	char			 manufacturer[33];
	CK_FLAGS		 flags;
	struct p11_tok		*next;
};

#define P11_ATTR(t, p, l)	{ (t), (void *)(p), (CK_ULONG)(l) }

int		 p11_attr_get(struct p11_tok *, CK_OBJECT_HANDLE,
		    CK_ATTRIBUTE_TYPE, unsigned char **, size_t *);
int		 p11_find(struct cm_ctx *, struct p11_tok *, CK_OBJECT_CLASS,
		    const unsigned char *, size_t, CK_OBJECT_HANDLE *);
EVP_PKEY	*p11_pubkey(struct p11_tok *, CK_OBJECT_HANDLE);
void		 p11_str(char *, size_t, const unsigned char *, size_t);
void		 p11_tok_set(struct p11_tok *, const CK_TOKEN_INFO *);
int		 p11_cert_create(struct cm_ctx *, struct p11_tok *, X509 *,
		    const char *, const unsigned char *, size_t,
		    unsigned long *);

#endif /* CM_P11_H */
