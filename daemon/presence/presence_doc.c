/*
 * presence_doc.c - the XML the presence service reads and writes: PIDF with
 * RPID activities (RFC 3863, RFC 4480) and the SOAP bodies of SERVICE.
 *
 * Parsing is hardened: a size limit before anything else, no document type
 * declaration at all (so no entities to expand, billion laughs or external),
 * libxml2 with network access off and entity substitution off.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "presence_int.h"

#define PIDF_NS "urn:ietf:params:xml:ns:pidf"

static const struct {
	const char *name;
	enum pres_activity act;
} activity_names[] = {
    {"available", ACT_AVAILABLE}, {"away", ACT_AWAY},
    {"be-right-back", ACT_BRB},   {"busy", ACT_BUSY},
    {"meeting", ACT_BUSY},        {"appointment", ACT_BUSY},
    {"do-not-disturb", ACT_DND},  {"on-the-phone", ACT_ON_THE_PHONE},
};

const char *
pres_activity_name(enum pres_activity a)
{
	for (size_t i = 0; i < sizeof(activity_names) / sizeof(activity_names[0]); i++)
		if (activity_names[i].act == a)
			return activity_names[i].name;
	return "available";
}

/* Parse a body we accept: bounded, without DTD, no entities, no network. */
static xmlDocPtr
doc_read(const char *body, size_t len, size_t max, int *err)
{
	xmlDocPtr d;

	if (len > max) {
		*err = DOC_TOO_LARGE;
		return NULL;
	}
	*err = DOC_BAD;
	if (len == 0 || memmem(body, len, "<!DOCTYPE", 9) || memmem(body, len, "<!ENTITY", 8))
		return NULL;
	d = xmlReadMemory(body, (int)len, NULL, NULL,
			  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (d == NULL)
		return NULL;
	if (d->intSubset || d->extSubset || xmlDocGetRootElement(d) == NULL) {
		xmlFreeDoc(d);
		return NULL;
	}
	*err = DOC_OK;
	return d;
}

static bool
name_is(const xmlNode *n, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* Copy UTF-8 text into out, cut on a character boundary when it is too long:
 * what we keep is sent again (notes, group names) and must stay UTF-8. */
static void
utf8_copy(char *out, size_t len, const char *s)
{
	size_t k = strlen(s);

	if (k >= len) {
		k = len - 1;
		while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
			k--;
	}
	memcpy(out, s, k);
	out[k] = '\0';
}

static void
text_of(const xmlNode *n, char *out, size_t len)
{
	xmlChar *t = xmlNodeGetContent(n);

	utf8_copy(out, len, t ? (const char *)t : "");
	xmlFree(t);
}

static void
activity_set(struct pres_status *st, const char *name)
{
	if (strcmp(name, "offline") == 0) {
		st->open = false;
		return;
	}
	for (size_t i = 0; i < sizeof(activity_names) / sizeof(activity_names[0]); i++)
		if (strcasecmp(activity_names[i].name, name) == 0)
			st->activity = activity_names[i].act;
}

/* <activities>: RPID elements, <other>text</other>, or the legacy <activity>text. */
static void
activities_read(const xmlNode *acts, struct pres_status *st)
{
	char text[64];

	for (const xmlNode *a = acts->children; a; a = a->next) {
		if (a->type != XML_ELEMENT_NODE)
			continue;
		if (name_is(a, "other") || name_is(a, "activity")) {
			text_of(a, text, sizeof(text));
			activity_set(st, text);
		} else {
			activity_set(st, (const char *)a->name);
		}
	}
}

static void
pidf_walk(const xmlNode *n, struct pres_status *st, bool *seen_basic)
{
	char text[16];

	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (name_is(n, "basic")) {
			text_of(n, text, sizeof(text));
			bool open = strcmp(text, "open") == 0;
			st->open = *seen_basic ? (st->open || open) : open;
			*seen_basic = true;
		} else if (name_is(n, "activities")) {
			activities_read(n, st);
			continue;
		} else if (name_is(n, "note") && st->note[0] == '\0') {
			text_of(n, st->note, sizeof(st->note));
			continue;
		}
		pidf_walk(n->children, st, seen_basic);
	}
}

int
pres_pidf_parse(const char *body, size_t len, size_t max, struct pres_status *out)
{
	int err;
	xmlDocPtr d = doc_read(body, len, max, &err);
	bool seen_basic = false;

	memset(out, 0, sizeof(*out));
	if (d == NULL)
		return err;
	xmlNode *root = xmlDocGetRootElement(d);
	if (!name_is(root, "presence") || root->ns == NULL ||
	    strcmp((const char *)root->ns->href, PIDF_NS) != 0) {
		xmlFreeDoc(d);
		return DOC_BAD;
	}
	out->open = true;
	pidf_walk(root->children, out, &seen_basic);
	if (!out->open)
		out->activity = ACT_AVAILABLE;
	xmlFreeDoc(d);
	return DOC_OK;
}

char *
pres_xml_escape(const char *s)
{
	size_t n = 1;
	char *out, *p;

	for (const char *q = s; *q; q++)
		n += strchr("<>&\"'", *q) ? 6 : 1;
	out = p = malloc(n);
	if (out == NULL)
		return NULL;
	for (; *s; s++) {
		const char *e = *s == '<'    ? "&lt;"
				: *s == '>'  ? "&gt;"
				: *s == '&'  ? "&amp;"
				: *s == '"'  ? "&quot;"
				: *s == '\'' ? "&apos;"
					     : NULL;
		if (e) {
			strcpy(p, e);
			p += strlen(e);
		} else {
			*p++ = *s;
		}
	}
	*p = '\0';
	return out;
}

void
pres_buf_printf(struct pres_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *piece = NULL, *nb;
	int n;

	if (b->failed)
		return;
	va_start(ap, fmt);
	n = vasprintf(&piece, fmt, ap);
	va_end(ap);
	nb = n < 0 ? NULL : realloc(b->buf, b->len + (size_t)n + 1);
	if (nb == NULL) {
		free(n < 0 ? NULL : piece);
		b->failed = true;
		return;
	}
	memcpy(nb + b->len, piece, (size_t)n + 1);
	b->buf = nb;
	b->len += (size_t)n;
	free(piece);
}

char *
pres_buf_take(struct pres_buf *b)
{
	char *s = b->buf;

	if (b->failed) {
		free(s);
		s = NULL;
	}
	memset(b, 0, sizeof(*b));
	return s;
}

/* The RPID form of an activity; available has none. */
static const char *
rpid_activity(enum pres_activity a)
{
	switch (a) {
	case ACT_AWAY:
		return "<rpid:away/>";
	case ACT_BUSY:
		return "<rpid:busy/>";
	case ACT_ON_THE_PHONE:
		return "<rpid:on-the-phone/>";
	case ACT_DND:
		return "<rpid:busy/><rpid:other>do-not-disturb</rpid:other>";
	case ACT_BRB:
		return "<rpid:away/><rpid:other>be-right-back</rpid:other>";
	default:
		return NULL;
	}
}

char *
pres_pidf_build(const char *entity, const struct pres_status *st)
{
	char *ent = pres_xml_escape(entity), *note = pres_xml_escape(st->note), *out = NULL;
	const char *act = st->open ? rpid_activity(st->activity) : NULL;

	if (ent && note &&
	    asprintf(&out,
		     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		     "<presence xmlns=\"" PIDF_NS "\""
		     " xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\""
		     " xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\" entity=\"sip:%s\">\n"
		     "<tuple id=\"gw\"><status><basic>%s</basic></status>%s%s%s</tuple>\n"
		     "<dm:person id=\"p\">%s%s%s</dm:person>\n</presence>\n",
		     ent, st->open ? "open" : "closed", note[0] ? "<note>" : "", note,
		     note[0] ? "</note>" : "", act ? "<rpid:activities>" : "", act ? act : "",
		     act ? "</rpid:activities>" : "") < 0)
		out = NULL;
	free(ent);
	free(note);
	return out;
}

static void
soap_collect(const xmlNode *n, struct pres_soap *out)
{
	for (; n && out->nargs < sizeof(out->args) / sizeof(out->args[0]); n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		xmlChar *agg = xmlGetNoNsProp(n, (const xmlChar *)"aggregate");
		if (agg == NULL)
			agg = xmlGetProp(n, (const xmlChar *)"aggregate");
		bool leaf = true;
		for (const xmlNode *c = n->children; c; c = c->next)
			if (c->type == XML_ELEMENT_NODE)
				leaf = false;
		if (agg || leaf) {
			snprintf(out->args[out->nargs][0], sizeof(out->args[0][0]), "%s", n->name);
			if (agg)
				utf8_copy(out->args[out->nargs][1], sizeof(out->args[0][1]),
					  (const char *)agg);
			else
				text_of(n, out->args[out->nargs][1], sizeof(out->args[0][1]));
			out->nargs++;
		}
		xmlFree(agg);
		if (!leaf)
			soap_collect(n->children, out);
	}
}

int
pres_soap_parse(const char *body, size_t len, size_t max, struct pres_soap *out)
{
	int err;
	xmlDocPtr d = doc_read(body, len, max, &err);
	const xmlNode *n;

	memset(out, 0, sizeof(*out));
	if (d == NULL)
		return err;
	n = xmlDocGetRootElement(d);
	if (!name_is(n, "Envelope"))
		goto bad;
	for (n = n->children; n && !name_is(n, "Body"); n = n->next)
		;
	if (n == NULL)
		goto bad;
	for (n = n->children; n && n->type != XML_ELEMENT_NODE; n = n->next)
		;
	if (n == NULL)
		goto bad;
	snprintf(out->method, sizeof(out->method), "%s", n->name);
	soap_collect(n->children, out);
	xmlFreeDoc(d);
	return DOC_OK;
bad:
	xmlFreeDoc(d);
	return DOC_BAD;
}

const char *
pres_soap_arg(const struct pres_soap *s, const char *name)
{
	for (size_t i = 0; i < s->nargs; i++)
		if (strcmp(s->args[i][0], name) == 0)
			return s->args[i][1];
	return NULL;
}
