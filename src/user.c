/* user.c - the email rule and the JSON user object (see user.h). */
#include "autoconf.h"

#include <string.h>

#include "buf.h"
#include "config.h"
#include "json.h"
#include "user.h"
#include "util.h"

static bool
ascii_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

/*
 * The next code point of valid UTF-8 s at *i (the caller checked the
 * whole string with utf8_len first).
 */
static uint32_t
next_cp(const unsigned char *s, size_t *i)
{
	unsigned char c = s[*i];
	uint32_t cp;
	size_t k, j;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if ((c & 0xe0) == 0xc0) {
		k = 1;
		cp = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		k = 2;
		cp = c & 0x0f;
	} else {
		k = 3;
		cp = c & 0x07;
	}
	for (j = 1; j <= k; j++)
		cp = cp << 6 | (s[*i + j] & 0x3f);
	*i += k + 1;
	return cp;
}

/* Control characters and every Unicode white space character. */
static bool
forbidden_cp(uint32_t cp)
{
	return cp <= 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp == 0x1680 ||
	    cp == 0x180e || (cp >= 0x2000 && cp <= 0x200b) || cp == 0x2028 ||
	    cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000 ||
	    cp == 0xfeff;
}

bool
user_email_normalize(const char *in, char out[USER_EMAIL_MAX])
{
	const char *b = in, *e;
	size_t len, i, at = 0, nat = 0;
	long chars;

	out[0] = '\0';
	while (ascii_space(*b))
		b++;
	e = b + strlen(b);
	while (e > b && ascii_space(e[-1]))
		e--;
	len = (size_t)(e - b);
	if (len == 0 || len >= USER_EMAIL_MAX)
		return false;
	chars = utf8_len(b, len);
	if (chars < 3 || chars > USER_EMAIL_CHARS)
		return false;
	for (i = 0; i < len; i++) {
		char c = b[i];

		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
		if (c == '@') {
			nat++;
			at = i;
		}
	}
	out[len] = '\0';
	if (nat != 1 || at == 0 || at == len - 1)
		goto bad;
	for (i = 0; i < len;)
		if (forbidden_cp(next_cp((const unsigned char *)out, &i)))
			goto bad;
	return true;
bad:
	out[0] = '\0';
	return false;
}

void
user_write(struct jw *w, const struct user *u, bool open)
{
	jw_obj(w);
	jw_kstr(w, "id", u->id);
	jw_kstr(w, "email", u->email);
	jw_kstr(w, "role", u->admin ? "admin" : "user");
	jw_kbool(w, "is_active", u->is_active);
	jw_ktime(w, "created_at", u->created_at);
	jw_kstr(w, "api_key_prefix", u->api_key_prefix[0] ? u->api_key_prefix :
	    NULL);
	jw_key(w, "limits");
	jw_obj(w);
	jw_kstr(w, "max_monthly_cost", u->max_monthly_cost[0] ?
	    u->max_monthly_cost : cfg.max_monthly_cost);
	jw_kint(w, "max_articles_per_month", u->max_articles >= 0 ?
	    u->max_articles : cfg.max_articles);
	jw_end(w, '}');
	/* whether each limit is the user's own or the server's default */
	jw_key(w, "limits_source");
	jw_obj(w);
	jw_kstr(w, "max_monthly_cost", u->max_monthly_cost[0] ?
	    "override" : "default");
	jw_kstr(w, "max_articles_per_month", u->max_articles >= 0 ?
	    "override" : "default");
	jw_end(w, '}');
	if (!open)
		jw_end(w, '}');
}
