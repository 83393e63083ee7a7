/* Runs libusbredirparser's device filter on cases read from stdin, for asp's differential
 * filter test (asp/tests/usbredir_filter.rs).
 *
 * Each input line: the filter text, a tab, then the device as space-separated integers:
 * class vendor product bcd, then "c.s.p" for each interface (class, subclass, protocol).
 * Each output line: "parse=RC", and when the text parsed, " rules=TEXT check=RC", where TEXT
 * is what usbredirfilter_rules_to_string writes back and RC usbredirfilter_check's result
 * (0, or a negative errno). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <usbredirfilter.h>

#define MAX_INTERFACES 32

int main(void)
{
    char line[8192];

    while (fgets(line, sizeof line, stdin)) {
        char *tab = strchr(line, '\t');
        struct usbredirfilter_rule *rules = NULL;
        int count = 0, rc, n = 0;
        unsigned cls, vendor, product, bcd, ic, is, ip;
        uint8_t klass[MAX_INTERFACES], sub[MAX_INTERFACES], proto[MAX_INTERFACES];
        char *p;
        int used;

        if (!tab)
            return 2;
        *tab = '\0';
        p = tab + 1;
        if (sscanf(p, "%u %u %u %u%n", &cls, &vendor, &product, &bcd, &used) != 4)
            return 2;
        p += used;
        while (n < MAX_INTERFACES && sscanf(p, " %u.%u.%u%n", &ic, &is, &ip, &used) == 3) {
            klass[n] = ic;
            sub[n] = is;
            proto[n] = ip;
            n++;
            p += used;
        }
        rc = usbredirfilter_string_to_rules(line, ",", "|", &rules, &count);
        printf("parse=%d", rc);
        if (rc == 0) {
            char *text = usbredirfilter_rules_to_string(rules, count, ",", "|");
            rc = usbredirfilter_check(rules, count, cls, 0, 0, klass, sub, proto, n, vendor, product, bcd, 0);
            printf(" rules=%s check=%d", text ? text : "(null)", rc);
            usbredirfilter_free(text);
            usbredirfilter_free(rules);
        }
        printf("\n");
        fflush(stdout);
    }
    return 0;
}
