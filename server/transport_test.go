package main

import (
	"io"
	"strings"
	"testing"
)

// TestHelp_neverPrintsSecrets runs the flag parsing with every secret in the environment: --help
// names each setting and says it is set, but prints no value; the values still reach the Config,
// and a flag still wins over the environment.
func TestHelp_neverPrintsSecrets(t *testing.T) {
	env := map[string]string{
		"ADMIN_PASSWORD":  "hunter2-admin-secret",
		"LOOKUP_KEY":      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		"SMTP_URL":        "smtp://mailer:smtp-secret@mail.example:587",
		"DATABASE_URL":    "postgres://coffer:db-secret@db.example/coffer",
		"SMS_WEBHOOK_URL": "https://sms.example/send?token=sms-secret",
	}
	getenv := func(k string) string { return env[k] }
	var out strings.Builder
	if _, err := parseConfigTo([]string{"--help"}, getenv, &out); err == nil {
		t.Fatal("--help did not stop")
	}
	help := out.String()
	for name, value := range env {
		if !strings.Contains(help, "("+name+") [set in the environment, not shown]") {
			t.Errorf("--help does not say that %s is set:\n%s", name, help)
		}
		for _, part := range []string{value, "secret", "hunter2", "0011223344"} {
			if strings.Contains(help, part) {
				t.Errorf("--help prints %q of %s:\n%s", part, name, help)
			}
		}
	}
	c, err := parseConfigTo(nil, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.AdminPassword != env["ADMIN_PASSWORD"] || c.LookupKey != env["LOOKUP_KEY"] || c.SMTPURL != env["SMTP_URL"] ||
		c.DatabaseURL != env["DATABASE_URL"] || c.SMSWebhookURL != env["SMS_WEBHOOK_URL"] {
		t.Errorf("the environment's secrets did not reach the config: %+v", c)
	}
	c, err = parseConfigTo([]string{"--admin-password=from-the-flag"}, getenv, io.Discard)
	if err != nil || c.AdminPassword != "from-the-flag" {
		t.Errorf("flag over environment: %q, %v", c.AdminPassword, err)
	}
}
