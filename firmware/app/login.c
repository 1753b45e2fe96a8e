/* login.c - see login.h. */
#include "login.h"

#include <string.h>

static int session;

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode one urlencoded value of n bytes ('+' is a space, %XX a byte). */
static int decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi, lo;
            if (i + 2 >= n)
                return -1;
            hi = hex_value(s[i + 1]);
            lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' || o + 1 >= cap)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

int login_field(const char *body, size_t len, const char *name, char *out, size_t cap)
{
    size_t i = 0, nlen = strlen(name);

    while (i < len) {
        size_t end = i, eq;

        while (end < len && body[end] != '&')
            end++;
        for (eq = i; eq < end && body[eq] != '='; eq++)
            ;
        if (eq < end && eq - i == nlen && memcmp(body + i, name, nlen) == 0)
            return decode(body + eq + 1, end - eq - 1, out, cap);
        i = end + 1;
    }
    return -1;
}

int login_form_ok(const char *body, size_t len)
{
    char user[64], pass[64];

    return login_field(body, len, "username", user, sizeof user) == 0 &&
           login_field(body, len, "password", pass, sizeof pass) == 0 &&
           strcmp(user, LOGIN_USERNAME) == 0 && strcmp(pass, LOGIN_PASSWORD) == 0;
}

void login_reset(void)
{
    session = 0;
}

void login_set(int logged_in)
{
    session = logged_in != 0;
}

int login_active(void)
{
    return session;
}
