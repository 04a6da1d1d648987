/*
 * imap_thread - RFC 5256 THREAD=ORDEREDSUBJECT and THREAD=REFERENCES; see
 * imap_thread.h
 *
 * Nodes are numbers: 0..n-1 the messages in m[] order, n.. the dummies
 * (ids no message has, and the dummies step 5 creates). Every per-node
 * value is an array indexed by node; NIL (no node) is UINT32_MAX.
 *
 * Step 1 needs two things of the growing forest: "has b a parent?" (the
 * parent[] array) and "is a a descendant of b?" where b is always a root
 * at that moment (1.A only links a b that has no parent; 1.B cuts the
 * message's old link before linking it). The second is "is findroot(a)
 * == b", answered by a link-cut tree over the same forest (lc, rc: splay
 * children; lp: splay parent or, for a splay root, the path parent), in
 * O(log N) amortized per link, cut or findroot.
 *
 * Steps 2 and 3 find, for each message, its nearest ancestor that is a
 * message, or else the root dummy above it (one breadth-first pass from
 * the roots, parents before children). Pruning bottom-up leaves exactly
 * that: dummies below the root level always go (their children move up);
 * a root dummy keeps the messages that reach it through dummies only if
 * there are two or more of them; with one, that message is a root itself.
 * After step 3 dummies exist only at the root level, with messages as
 * children, and step 5 keeps it so; a dummy sorts and is named (thread
 * subject) by its earliest child, its "key". Step 6 sorts all nodes at
 * once by (parent, key date, key sequence) and relinks the siblings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util/alloc.h"
#include "imapd/imap_thread.h"

#define NIL  UINT32_MAX
#define ROOT (UINT32_MAX - 1)	/* the parent of the roots, after step 3 */

/* ---- SipHash-2-4 (Aumasson, Bernstein), keyed per call --------------- */

#define SIP_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIP_ROUND(v0, v1, v2, v3) do { \
	v0 += v1; v1 = SIP_ROTL(v1, 13); v1 ^= v0; v0 = SIP_ROTL(v0, 32); \
	v2 += v3; v3 = SIP_ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = SIP_ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = SIP_ROTL(v1, 17); v1 ^= v2; v2 = SIP_ROTL(v2, 32); \
	} while (0)

static uint64_t sip_hash(const uint64_t key[2], const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t v0 = key[0] ^ 0x736f6d6570736575ULL;
	uint64_t v1 = key[1] ^ 0x646f72616e646f6dULL;
	uint64_t v2 = key[0] ^ 0x6c7967656e657261ULL;
	uint64_t v3 = key[1] ^ 0x7465646279746573ULL;
	uint64_t b = (uint64_t)len << 56, w;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		w = 0;
		for (int k = 7; k >= 0; k--)
			w = w << 8 | p[i + (size_t)k];
		v3 ^= w;
		SIP_ROUND(v0, v1, v2, v3);
		SIP_ROUND(v0, v1, v2, v3);
		v0 ^= w;
	}
	for (int k = 0; i + (size_t)k < len; k++)
		b |= (uint64_t)p[i + (size_t)k] << (8 * k);
	v3 ^= b;
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (int k = 0; k < 4; k++)
		SIP_ROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* A random key: without one (getrandom failing), the tables still work,
 * only colliding input can then slow them down. */
static void sip_key(uint64_t key[2])
{
	key[0] = 0x0706050403020100ULL;
	key[1] = 0x0f0e0d0c0b0a0908ULL ^ (uint64_t)(uintptr_t)key;
	if (getrandom(key, 2 * sizeof(key[0]), GRND_NONBLOCK) !=
	    (ssize_t)(2 * sizeof(key[0])))
		key[0] ^= (uint64_t)time(NULL);
}

/* ---- msg-id parsing --------------------------------------------------- */

struct thread_id {
	const char *s;		/* inside the brackets; NULL: none */
	uint32_t len;
	uint32_t hash;		/* set by ctx_lookup() */
};

/* Past a comment or quoted string at p (unterminated: to the end). */
static const char *msgid_skip(const char *p, const char *end)
{
	char close = *p == '(' ? ')' : '"';
	unsigned long depth = 1;

	for (p++; p < end; p++) {
		if (*p == '\\') {
			if (++p >= end)
				break;
		} else if (close == ')' && *p == '(') {
			depth++;
		} else if (*p == close && --depth == 0) {
			return p + 1;
		}
	}
	return end;
}

static int msgid_valid(const char *s, const char *e)
{
	const char *at = NULL;

	if (e - s < 3 || (size_t)(e - s) > IMAP_THREAD_ID_MAX)
		return 0;
	for (const char *p = s; p < e; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= ' ' || c == 0x7f)
			return 0;
		if (c == '@')
			at = p;
	}
	return at != NULL && at != s && at != e - 1;
}

/* The next valid msg-id in [*pp, end): 1 with *id_r, or 0 at the end. */
static int msgid_next(const char **pp, const char *end, struct thread_id *id_r)
{
	const char *p = *pp, *q;

	while (p < end) {
		if (*p == '(' || *p == '"') {
			p = msgid_skip(p, end);
			continue;
		}
		if (*p != '<') {
			p++;
			continue;
		}
		for (q = p + 1; q < end && *q != '>' && *q != '<'; q++)
			;
		if (q < end && *q == '>' && msgid_valid(p + 1, q)) {
			id_r->s = p + 1;
			id_r->len = (uint32_t)(q - p - 1);
			*pp = q + 1;
			return 1;
		}
		p = q < end && *q == '>' ? q + 1 : q;
	}
	*pp = end;
	return 0;
}

static int msgid_first(const char *field, struct thread_id *id_r)
{
	const char *p = field;

	id_r->s = NULL;
	id_r->len = 0;
	return field != NULL && msgid_next(&p, field + strlen(field), id_r);
}

/* ---- nodes, the id table, the link-cut tree (step 1) ------------------ */

struct thread_ctx {
	const struct imap_thread_msg *m;
	uint32_t n;		/* messages */
	uint32_t nodes, cap;	/* messages and dummies, allocated */
	uint64_t key[2];
	struct thread_id *id;	/* per node; s NULL: not in the table */
	uint32_t *hnext, *bucket, mask, nhashed;
	uint32_t *parent;
	uint32_t *lc, *rc, *lp;	/* link-cut tree */
};

static uint32_t *u32_array(size_t n)
{
	uint32_t *a = xreallocarray(NULL, n ? n : 1, sizeof(*a));

	memset(a, 0xff, (n ? n : 1) * sizeof(*a));	/* all NIL */
	return a;
}

static void ctx_rehash(struct thread_ctx *t, uint32_t nbucket)
{
	free(t->bucket);
	t->bucket = u32_array(nbucket);
	t->mask = nbucket - 1;
	for (uint32_t x = 0; x < t->nodes; x++) {
		if (t->id[x].s != NULL) {
			uint32_t h = t->id[x].hash & t->mask;

			t->hnext[x] = t->bucket[h];
			t->bucket[h] = x;
		}
	}
}

/* The node with this id, or NIL; id->hash is set for ctx_insert(). */
static uint32_t ctx_lookup(const struct thread_ctx *t, struct thread_id *id)
{
	id->hash = (uint32_t)sip_hash(t->key, id->s, id->len);
	for (uint32_t x = t->bucket[id->hash & t->mask]; x != NIL;
	     x = t->hnext[x])
		if (t->id[x].hash == id->hash && t->id[x].len == id->len &&
		    memcmp(t->id[x].s, id->s, id->len) == 0)
			return x;
	return NIL;
}

/* Add node x with id (its hash from ctx_lookup()). */
static void ctx_insert(struct thread_ctx *t, uint32_t x,
		       const struct thread_id *id)
{
	uint32_t h;

	t->id[x] = *id;
	if (++t->nhashed > t->mask + 1) {
		ctx_rehash(t, 2 * (t->mask + 1));	/* includes x */
		return;
	}
	h = id->hash & t->mask;
	t->hnext[x] = t->bucket[h];
	t->bucket[h] = x;
}

static void ctx_grow(struct thread_ctx *t)
{
	uint32_t limit = t->n + IMAP_THREAD_DUMMIES_MAX;
	uint32_t cap = t->cap > limit / 2 ? limit : 2 * t->cap;
	uint32_t **arrays[] = { &t->hnext, &t->parent, &t->lc, &t->rc, &t->lp };

	t->id = xreallocarray(t->id, cap, sizeof(*t->id));
	for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
		*arrays[i] = xreallocarray(*arrays[i], cap, sizeof(uint32_t));
		memset(*arrays[i] + t->cap, 0xff,
		       (cap - t->cap) * sizeof(uint32_t));
	}
	memset(t->id + t->cap, 0, (cap - t->cap) * sizeof(*t->id));
	t->cap = cap;
}

/* The node with this id, a new dummy, or NIL past the dummy budget. */
static uint32_t ctx_node(struct thread_ctx *t, struct thread_id *id)
{
	uint32_t x = ctx_lookup(t, id);

	if (x != NIL)
		return x;
	if (t->nodes - t->n >= IMAP_THREAD_DUMMIES_MAX)
		return NIL;
	if (t->nodes == t->cap)
		ctx_grow(t);
	x = t->nodes++;
	ctx_insert(t, x, id);
	return x;
}

static int lct_is_root(const struct thread_ctx *t, uint32_t x)
{
	uint32_t p = t->lp[x];

	return p == NIL || (t->lc[p] != x && t->rc[p] != x);
}

static void lct_rotate(struct thread_ctx *t, uint32_t x)
{
	uint32_t p = t->lp[x], g = t->lp[p], b;

	if (!lct_is_root(t, p)) {
		if (t->lc[g] == p)
			t->lc[g] = x;
		else
			t->rc[g] = x;
	}
	t->lp[x] = g;
	if (t->lc[p] == x) {
		b = t->rc[x];
		t->lc[p] = b;
		t->rc[x] = p;
	} else {
		b = t->lc[x];
		t->rc[p] = b;
		t->lc[x] = p;
	}
	if (b != NIL)
		t->lp[b] = p;
	t->lp[p] = x;
}

static void lct_splay(struct thread_ctx *t, uint32_t x)
{
	while (!lct_is_root(t, x)) {
		uint32_t p = t->lp[x];

		if (!lct_is_root(t, p)) {
			uint32_t g = t->lp[p];

			if ((t->lc[g] == p) == (t->lc[p] == x))
				lct_rotate(t, p);
			else
				lct_rotate(t, x);
		}
		lct_rotate(t, x);
	}
}

/* Make the path from the tree's root to x preferred; x the splay root. */
static void lct_access(struct thread_ctx *t, uint32_t x)
{
	uint32_t last = NIL;

	for (uint32_t y = x; y != NIL; y = t->lp[y]) {
		lct_splay(t, y);
		t->rc[y] = last;
		last = y;
	}
	lct_splay(t, x);
}

static uint32_t lct_findroot(struct thread_ctx *t, uint32_t x)
{
	lct_access(t, x);
	while (t->lc[x] != NIL)
		x = t->lc[x];
	lct_splay(t, x);
	return x;
}

/* Make c (a root) a child of p unless p is c or below it (a loop). */
static void thread_link(struct thread_ctx *t, uint32_t c, uint32_t p)
{
	if (lct_findroot(t, p) == c)
		return;
	lct_access(t, c);
	t->lp[c] = p;
	t->parent[c] = p;
}

static void thread_cut(struct thread_ctx *t, uint32_t c)
{
	lct_access(t, c);
	t->lp[t->lc[c]] = NIL;
	t->lc[c] = NIL;
	t->parent[c] = NIL;
}

/* Step 1 for message i: its references, then its own parent link. */
static void thread_link_message(struct thread_ctx *t, uint32_t i)
{
	struct thread_id ring[IMAP_THREAD_REFS_MAX], id;
	const char *refs = t->m[i].references, *p;
	size_t count = 0, first;
	uint32_t prev = NIL;

	if (refs != NULL) {
		for (p = refs; msgid_next(&p, refs + strlen(refs), &id); )
			ring[count++ % IMAP_THREAD_REFS_MAX] = id;
	}
	if (count == 0 && msgid_first(t->m[i].in_reply_to, &id))
		ring[count++] = id;
	first = count > IMAP_THREAD_REFS_MAX ? count % IMAP_THREAD_REFS_MAX : 0;
	if (count > IMAP_THREAD_REFS_MAX)
		count = IMAP_THREAD_REFS_MAX;
	for (size_t k = 0; k < count; k++) {
		uint32_t x = ctx_node(t, &ring[(first + k) % IMAP_THREAD_REFS_MAX]);

		if (x == NIL)
			continue;	/* past the dummy budget: absent */
		if (prev != NIL && t->parent[x] == NIL)
			thread_link(t, x, prev);
		prev = x;
	}
	if (t->parent[i] != NIL)
		thread_cut(t, i);
	if (prev != NIL)
		thread_link(t, i, prev);
}

static void thread_step1(struct thread_ctx *t)
{
	uint32_t nbucket = 16;

	while (nbucket < t->n && nbucket < (1u << 30))
		nbucket *= 2;
	sip_key(t->key);
	t->cap = t->n + 16;
	t->id = xcalloc(t->cap, sizeof(*t->id));
	t->hnext = u32_array(t->cap);
	t->parent = u32_array(t->cap);
	t->lc = u32_array(t->cap);
	t->rc = u32_array(t->cap);
	t->lp = u32_array(t->cap);
	t->bucket = u32_array(nbucket);
	t->mask = nbucket - 1;
	t->nodes = t->n;
	for (uint32_t i = 0; i < t->n; i++) {
		struct thread_id id;

		if (msgid_first(t->m[i].message_id, &id) &&
		    ctx_lookup(t, &id) == NIL)
			ctx_insert(t, i, &id);	/* else: a duplicate, absent */
	}
	for (uint32_t i = 0; i < t->n; i++)
		thread_link_message(t, i);
	free(t->lc);
	free(t->rc);
	free(t->lp);
	free(t->hnext);
	free(t->bucket);
	free(t->id);
	t->lc = t->rc = t->lp = t->hnext = t->bucket = NULL;
	t->id = NULL;
}

/* ---- steps 2 to 6 ----------------------------------------------------- */

struct thread_tree {
	const struct imap_thread_msg *m;
	uint32_t n, nodes;
	uint32_t *par;		/* after step 3: a node, ROOT, or NIL (gone) */
	uint32_t *key;		/* the message a node sorts and is named by */
	uint32_t *fc, *ns;	/* first child, next sibling (step 6) */
	uint32_t *roots, nroots;
};

static int tree_reply(const struct thread_tree *tr, uint32_t x)
{
	return x < tr->n && tr->m[x].is_reply;
}

static const char *tree_subject(const struct thread_tree *tr, uint32_t x)
{
	const char *s = tr->m[tr->key[x]].subject;

	return s != NULL ? s : "";
}

/* -1, 0, 1 by the sent date of a's and b's keys, then sequence. */
static int tree_cmp_key(const struct thread_tree *tr, uint32_t a, uint32_t b)
{
	const struct imap_thread_msg *ma = &tr->m[tr->key[a]],
		*mb = &tr->m[tr->key[b]];

	if (ma->date != mb->date)
		return ma->date < mb->date ? -1 : 1;
	return (ma->seq > mb->seq) - (ma->seq < mb->seq);
}

static int tree_cmp_roots(const void *pa, const void *pb, void *arg)
{
	return tree_cmp_key(arg, *(const uint32_t *)pa, *(const uint32_t *)pb);
}

static int tree_cmp_siblings(const void *pa, const void *pb, void *arg)
{
	const struct thread_tree *tr = arg;
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;

	if (tr->par[a] != tr->par[b])
		return tr->par[a] < tr->par[b] ? -1 : 1;
	return tree_cmp_key(tr, a, b);
}

/* Steps 2 and 3: tr->par from t->parent (freed). Room is left for the
 * dummies step 5 may add, one per two roots at most. */
static void thread_prune(struct thread_ctx *t, struct thread_tree *tr)
{
	uint32_t *anc = u32_array(t->nodes), *queue = u32_array(t->nodes);
	uint32_t *count, qn = 0, cap = t->nodes + t->nodes / 2 + 1;

	tr->fc = u32_array(t->nodes);
	tr->ns = u32_array(t->nodes);
	for (uint32_t x = t->nodes; x-- > 0; ) {
		if (t->parent[x] == NIL) {
			queue[qn++] = x;
		} else {
			tr->ns[x] = tr->fc[t->parent[x]];
			tr->fc[t->parent[x]] = x;
		}
	}
	/* breadth first: anc = nearest message ancestor, else the root */
	for (uint32_t qi = 0; qi < qn; qi++) {
		uint32_t x = queue[qi];

		for (uint32_t c = tr->fc[x]; c != NIL; c = tr->ns[c]) {
			anc[c] = x < t->n || anc[x] == NIL ? x : anc[x];
			queue[qn++] = c;
		}
	}
	count = queue;		/* reused: children a root dummy keeps */
	memset(count, 0, t->nodes * sizeof(*count));
	tr->par = u32_array(cap);
	for (uint32_t c = 0; c < t->n; c++) {
		tr->par[c] = t->parent[c] == NIL ? ROOT : anc[c];
		if (tr->par[c] >= t->n && tr->par[c] != ROOT)
			count[tr->par[c]]++;
	}
	for (uint32_t d = t->n; d < t->nodes; d++)
		if (t->parent[d] == NIL && count[d] >= 2)
			tr->par[d] = ROOT;
	for (uint32_t c = 0; c < t->n; c++)
		if (tr->par[c] != ROOT && tr->par[c] >= t->n &&
		    count[tr->par[c]] == 1)
			tr->par[c] = ROOT;
	free(anc);
	free(queue);
	free(t->parent);
	t->parent = NULL;
	tr->m = t->m;
	tr->n = t->n;
	tr->nodes = t->nodes;
	tr->key = u32_array(cap);
	tr->fc = xreallocarray(tr->fc, cap, sizeof(uint32_t));
	tr->ns = xreallocarray(tr->ns, cap, sizeof(uint32_t));
}

/* key: each message itself, each live dummy its earliest child. */
static void tree_keys(struct thread_tree *tr)
{
	for (uint32_t x = 0; x < tr->nodes; x++)
		tr->key[x] = x < tr->n ? x : NIL;
	for (uint32_t c = 0; c < tr->n; c++) {
		uint32_t d = tr->par[c];

		if (d != ROOT && d >= tr->n &&
		    (tr->key[d] == NIL || tree_cmp_key(tr, c, d) < 0))
			tr->key[d] = c;
	}
}

/* The roots in step 4's order. */
static void tree_roots(struct thread_tree *tr)
{
	tr->nroots = 0;
	for (uint32_t x = 0; x < tr->nodes; x++)
		if (tr->par[x] == ROOT)
			tr->roots[tr->nroots++] = x;
	qsort_r(tr->roots, tr->nroots, sizeof(*tr->roots), tree_cmp_roots, tr);
}

/* ---- step 5: the subject table ---------------------------------------- */

struct subj_table {
	uint64_t key[2];
	uint32_t *bucket, mask;
	uint32_t *next, *node;	/* per entry */
	const char **subj;	/* per entry */
	uint32_t count, max;
};

static void subj_table_init(struct subj_table *st, uint32_t max)
{
	uint32_t nbucket = 16;

	while (nbucket < max && nbucket < (1u << 30))
		nbucket *= 2;
	sip_key(st->key);
	st->bucket = u32_array(nbucket);
	st->mask = nbucket - 1;
	st->next = u32_array(max);
	st->node = u32_array(max);
	st->subj = xreallocarray(NULL, max ? max : 1, sizeof(*st->subj));
	st->count = 0;
	st->max = max;
}

static void subj_table_free(struct subj_table *st)
{
	free(st->bucket);
	free(st->next);
	free(st->node);
	free(st->subj);
}

/* The entry for s, added (with node NIL) if there is none; NIL if the
 * table is full (it is sized for every root, so it never is). */
static uint32_t subj_table_entry(struct subj_table *st, const char *s)
{
	uint32_t h = (uint32_t)sip_hash(st->key, s, strlen(s)) & st->mask, e;

	for (e = st->bucket[h]; e != NIL; e = st->next[e])
		if (strcmp(st->subj[e], s) == 0)
			return e;
	if (st->count == st->max)
		return NIL;
	e = st->count++;
	st->subj[e] = s;
	st->node[e] = NIL;
	st->next[e] = st->bucket[h];
	st->bucket[h] = e;
	return e;
}

/* 5.B: one root per thread subject, preferring dummies, then non-replies. */
static void thread_subjects_fill(struct thread_tree *tr, struct subj_table *st)
{
	for (uint32_t k = 0; k < tr->nroots; k++) {
		uint32_t r = tr->roots[k], e, old;
		const char *s = tree_subject(tr, r);

		if (*s == '\0')
			continue;
		if ((e = subj_table_entry(st, s)) == NIL)
			continue;
		old = st->node[e];
		if (old == NIL || (old < tr->n && (r >= tr->n ||
		    (tree_reply(tr, old) && !tree_reply(tr, r)))))
			st->node[e] = r;
	}
}

/* 5.C: merge each root into its subject's table root. tr->fc serves as
 * the map from a dummy merged away to the dummy it was merged into. */
static void thread_subjects_merge(struct thread_tree *tr,
				  struct subj_table *st)
{
	uint32_t *merged = tr->fc, nodes0 = tr->nodes;

	memset(merged, 0xff, nodes0 * sizeof(*merged));
	for (uint32_t k = 0; k < tr->nroots; k++) {
		uint32_t r = tr->roots[k], e, t, d;
		const char *s = tree_subject(tr, r);

		if (*s == '\0' || tr->par[r] != ROOT)
			continue;
		if ((e = subj_table_entry(st, s)) == NIL)
			continue;
		t = st->node[e];
		if (t == r || t == NIL)
			continue;
		if (t >= tr->n && r >= tr->n) {
			tr->par[r] = NIL;	/* its children go to t */
			merged[r] = t;
		} else if (t >= tr->n ||
			   (tree_reply(tr, r) && !tree_reply(tr, t))) {
			tr->par[r] = t;
		} else {
			d = tr->nodes++;
			tr->par[d] = ROOT;
			tr->par[t] = d;
			tr->par[r] = d;
			st->node[e] = d;
		}
	}
	for (uint32_t c = 0; c < tr->n; c++) {
		uint32_t p = tr->par[c];

		if (p != ROOT && p >= tr->n && p < nodes0 && merged[p] != NIL)
			tr->par[c] = merged[p];
	}
}

static void thread_gather(struct thread_tree *tr)
{
	struct subj_table st;

	subj_table_init(&st, tr->nroots);
	thread_subjects_fill(tr, &st);
	thread_subjects_merge(tr, &st);
	subj_table_free(&st);
}

/* ---- step 6 and the output -------------------------------------------- */

/* Sort all siblings, relink fc/ns, the roots in order. */
static void tree_sort(struct thread_tree *tr)
{
	uint32_t *live = xreallocarray(NULL, tr->nodes ? tr->nodes : 1,
				       sizeof(*live)), nlive = 0;

	tree_keys(tr);
	for (uint32_t x = 0; x < tr->nodes; x++) {
		tr->fc[x] = tr->ns[x] = NIL;
		if (tr->par[x] != NIL)
			live[nlive++] = x;
	}
	qsort_r(live, nlive, sizeof(*live), tree_cmp_siblings, tr);
	tr->nroots = 0;
	for (uint32_t k = nlive; k-- > 0; ) {
		uint32_t x = live[k], p = tr->par[x];

		if (p == ROOT)
			tr->nroots++;
		else {
			tr->ns[x] = tr->fc[p];
			tr->fc[p] = x;
		}
	}
	/* the roots sort last (ROOT is the largest parent) */
	memcpy(tr->roots, live + nlive - tr->nroots,
	       tr->nroots * sizeof(*live));
	free(live);
}

static int str_append_u32(struct str *out, uint32_t v)
{
	char buf[10];
	size_t i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return str_append(out, buf + i, sizeof(buf) - i);
}

/* One thread-list. A chain prints flat ("1 2 3"); two or more children
 * each get parentheses. stack: the child whose "(" is open, per level. */
static int tree_write_thread(const struct thread_tree *tr, uint32_t r,
			     uint32_t *stack, struct str *out)
{
	uint32_t sp = 0, x = r;
	int err = str_appendc(out, '(');

	for (;;) {
		uint32_t c = tr->fc[x];

		if (x < tr->n)
			err |= str_append_u32(out, tr->m[x].id);
		if (c != NIL && x < tr->n)
			err |= str_appendc(out, ' ');
		if (c != NIL && tr->ns[c] != NIL) {
			err |= str_appendc(out, '(');
			stack[sp++] = c;
		}
		if (c != NIL) {
			x = c;
			continue;
		}
		/* a leaf: close groups until one has a next sibling */
		while (sp > 0 && tr->ns[stack[sp - 1]] == NIL) {
			err |= str_appendc(out, ')');
			sp--;
		}
		if (sp == 0)
			break;
		x = stack[sp - 1] = tr->ns[stack[sp - 1]];
		err |= str_append(out, ")(", 2);
	}
	err |= str_appendc(out, ')');
	return err != 0 ? -1 : 0;
}

static int tree_write(struct thread_tree *tr, struct str *out)
{
	uint32_t *stack = xreallocarray(NULL, tr->nodes ? tr->nodes : 1,
					sizeof(*stack));
	size_t len0 = out->len;
	int ret = 0;

	for (uint32_t k = 0; k < tr->nroots && ret == 0; k++)
		ret = tree_write_thread(tr, tr->roots[k], stack, out);
	free(stack);
	if (ret < 0) {
		str_truncate(out, len0);
		errno = EMSGSIZE;
	}
	return ret;
}

static void tree_free(struct thread_tree *tr)
{
	free(tr->par);
	free(tr->key);
	free(tr->fc);
	free(tr->ns);
	free(tr->roots);
}

static int thread_references(const struct imap_thread_msg *m, uint32_t n,
			     struct str *out)
{
	struct thread_ctx t;
	struct thread_tree tr;
	int ret;

	memset(&t, 0, sizeof(t));
	t.m = m;
	t.n = n;
	thread_step1(&t);
	thread_prune(&t, &tr);
	tr.roots = u32_array(tr.nodes + tr.nodes / 2 + 1);
	tree_keys(&tr);
	tree_roots(&tr);
	thread_gather(&tr);
	tree_sort(&tr);
	ret = tree_write(&tr, out);
	tree_free(&tr);
	return ret;
}

/* ---- ORDEREDSUBJECT --------------------------------------------------- */

static int cmp_subject_date(const void *pa, const void *pb, void *arg)
{
	const struct imap_thread_msg *m = arg;
	const struct imap_thread_msg *a = &m[*(const uint32_t *)pa],
		*b = &m[*(const uint32_t *)pb];
	int r = strcmp(a->subject != NULL ? a->subject : "",
		       b->subject != NULL ? b->subject : "");

	if (r != 0)
		return r;
	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

static int thread_orderedsubject(const struct imap_thread_msg *m, uint32_t n,
				 struct str *out)
{
	struct thread_tree tr;
	uint32_t *idx = u32_array(n), first = NIL;
	int ret;

	memset(&tr, 0, sizeof(tr));
	tr.m = m;
	tr.n = tr.nodes = n;
	tr.par = u32_array(n);
	tr.key = u32_array(n);
	tr.fc = u32_array(n);
	tr.ns = u32_array(n);
	tr.roots = u32_array(n);
	for (uint32_t i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_subject_date, (void *)m);
	for (uint32_t k = 0; k < n; k++) {
		uint32_t x = idx[k];

		if (first == NIL ||
		    strcmp(m[first].subject ? m[first].subject : "",
			   m[x].subject ? m[x].subject : "") != 0) {
			first = x;
			tr.par[x] = ROOT;
		} else {
			tr.par[x] = first;
		}
	}
	free(idx);
	tree_sort(&tr);
	ret = tree_write(&tr, out);
	tree_free(&tr);
	return ret;
}

int imap_thread(const struct imap_thread_msg *m, size_t n,
		enum imap_thread_alg alg, struct str *out)
{
	if ((m == NULL && n > 0) || n >= IMAP_THREAD_MSGS_MAX ||
	    (alg != IMAP_THREAD_ORDEREDSUBJECT &&
	     alg != IMAP_THREAD_REFERENCES)) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 1; i < n; i++) {
		if (m[i].seq <= m[i - 1].seq) {
			errno = EINVAL;
			return -1;
		}
	}
	if (n == 0)
		return 0;
	if (alg == IMAP_THREAD_ORDEREDSUBJECT)
		return thread_orderedsubject(m, (uint32_t)n, out);
	return thread_references(m, (uint32_t)n, out);
}
