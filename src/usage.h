/*
 * usage.h - a user's usage of one month, as API.md's GET /usage shows it
 * (and GET /me, and the admin's user list), and its one JSON writer.
 */
#ifndef BP_USAGE_H
#define BP_USAGE_H

#include <stdint.h>

struct jw;

/* numeric(14,4) as text: "9999999999.9999" plus NUL, with room to spare. */
#define USAGE_MONEY_MAX	24

/*
 * Filled from SQL text: money stays the numeric's text (4 decimals),
 * never a double.
 */
struct usage {
	char	 month[8];			/* "2026-11" */
	int64_t	 articles_generated;		/* completed runs this month */
	int64_t	 articles_in_progress;		/* running, not timed out */
	char	 total_cost[USAGE_MONEY_MAX];	/* cost of ended runs */
	char	 max_monthly_cost[USAGE_MONEY_MAX];	/* override or default */
	int64_t	 max_articles_per_month;	/* override or default */
	char	 remaining_cost[USAGE_MONEY_MAX];	/* never below 0 */
	int64_t	 remaining_articles;		/* never below 0 */
};

/*
 * Write u as one JSON object value:
 *   {"month","articles_generated","articles_in_progress","total_cost",
 *    "limits":{"max_monthly_cost","max_articles_per_month"},
 *    "remaining":{"cost","articles"}}
 * The caller has written the key, if any.
 */
void usage_write(struct jw *w, const struct usage *u);

#endif
