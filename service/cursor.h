/* cursor.h — opaque keyset-pagination cursors.
 * A cursor names the sort it belongs to, the last row's sort key (as text) and
 * its id, base64url-encoded; a cursor for another sort, or one that does not
 * decode, is refused rather than silently restarting the list. */
#ifndef CAMPAIGND_CURSOR_H
#define CAMPAIGND_CURSOR_H

/* Returns a new malloc'd cursor string, or NULL on OOM. */
char *cursor_encode(const char *sort, const char *key, const char *id);

/* Decodes cursor made for sort. On success returns 0 and sets *key and *id to
 * malloc'd strings (free() both); id is checked to be a UUID or a positive integer (bigint ids). Returns -1 for a
 * cursor it did not make, -2 when out of memory (neither out-param is set). */
int cursor_decode(const char *cursor, const char *sort, char **key, char **id);

#endif
