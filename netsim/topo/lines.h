/* Line splitting for the line-oriented parsers (topology files, scenario
 * files): the text is split in place and a line with a NUL byte in it is
 * reported rather than silently cut short. */
#ifndef NETSIM_LINES_H
#define NETSIM_LINES_H

#include <stdbool.h>
#include <string.h>

struct line_reader {
	char *cursor, *end;   /* the rest of the text; *end is its NUL */
	int lineno;           /* 1-based number of the line last returned */
};

static inline void line_reader_init(struct line_reader *r, char *text, size_t len)
{
	r->cursor = text;
	r->end = text + len;
	r->lineno = 0;
}

/* The next line, NUL-terminated in place: true with *line set (and *has_nul when
 * the line holds a NUL byte), false at the end of the text. */
static inline bool line_reader_next(struct line_reader *r, char **line, bool *has_nul)
{
	if (r->cursor >= r->end)
		return false;
	char *newline = memchr(r->cursor, '\n', (size_t)(r->end - r->cursor));
	char *line_end = newline ? newline : r->end;
	*line_end = '\0';
	*line = r->cursor;
	*has_nul = strlen(r->cursor) != (size_t)(line_end - r->cursor);
	r->cursor = line_end + 1;
	r->lineno++;
	return true;
}

#endif
