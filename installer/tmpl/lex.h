/* tmpl/lex.h - the lexer of Go's text/template (text/template/parse/lex.go). */
#ifndef KSTAGE_TMPL_LEX_H
#define KSTAGE_TMPL_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ttok {
	TK_ERROR, TK_EOF, TK_TEXT, TK_LDELIM, TK_RDELIM, TK_IDENT, TK_FIELD, TK_VAR,
	TK_DOT, TK_STRING, TK_RAWSTRING, TK_CHAR, TK_NUMBER, TK_BOOL, TK_NIL, TK_PIPE,
	TK_LPAREN, TK_RPAREN, TK_DECLARE, TK_ASSIGN, TK_COMMA, TK_COMMENT,
	/* keywords */
	TK_IF, TK_ELSE, TK_END, TK_RANGE, TK_WITH, TK_DEFINE, TK_TEMPLATE, TK_BLOCK,
	TK_BREAK, TK_CONTINUE,
} ttok;

/* Go's lexer emits the spaces inside an action as a token of their own; here
 * they are skipped and only sp says they were there (the parser needs no
 * more: a space separates operands and ends a field chain) */
typedef struct tlex_tok {
	ttok t;
	uint32_t pos;
	bool sp;          /* spaces came before this token, inside an action */
	uint32_t sppos;   /* where they began */
	const char *s;    /* points into the source (or the error message) */
	size_t n;
} tlex_tok;

typedef struct tlex {
	const char *src;
	size_t len, pos;
	int state;          /* 0 text, 1 inside action */
	int paren;
	bool trim_next;     /* the next text starts after a "-}}" */
	const char *errmsg;
	char errbuf[96];    /* a message that quotes the source ("bad number syntax: \"1a\"") */
} tlex;

void tlex_init(tlex *l, const char *src, size_t len);
void tlex_next(tlex *l, tlex_tok *t);

#endif
