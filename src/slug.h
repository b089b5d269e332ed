/* slug.h - the slug an article gets from its title when none is given. */
#ifndef BP_SLUG_H
#define BP_SLUG_H

#define SLUG_MAX	500	/* characters (all ASCII) */
#define SLUG_DEFAULT	"article"

/*
 * Write the slug of title to out (room for SLUG_MAX + 1 bytes): ASCII
 * letters lower-cased and digits kept, every run of anything else (other
 * ASCII, any non-ASCII character) one '-', none at either end, at most
 * SLUG_MAX characters.  A title with no ASCII letter or digit gives
 * SLUG_DEFAULT.  The API and the legacy import make slugs with this.
 */
void slug_from_title(const char *title, char *out);

#endif
