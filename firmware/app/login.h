/*
 * login.h - the sample-flag web server's login step: fields of an
 * application/x-www-form-urlencoded body and the one account (admin / stm32 unless the
 * build says otherwise). One global session flag, as ST's AN3968 example keeps: whoever
 * logged in last, the upload form is open until the device resets.
 */
#ifndef LOGIN_H
#define LOGIN_H

#include <stddef.h>

#ifndef LOGIN_USERNAME
#define LOGIN_USERNAME "admin"
#endif
#ifndef LOGIN_PASSWORD
#define LOGIN_PASSWORD "stm32"
#endif
#define LOGIN_FORM_MAX 256   /* bytes of a login form body */

/*
 * Copy the URL-decoded value of field `name` of the form body into out (NUL-terminated).
 * 0, or -1 when the field is missing, malformed or does not fit.
 */
int login_field(const char *body, size_t len, const char *name, char *out, size_t cap);
/* 1 when the form carries the account's username and password. */
int login_form_ok(const char *body, size_t len);

void login_reset(void);
void login_set(int logged_in);
int login_active(void);

#endif /* LOGIN_H */
