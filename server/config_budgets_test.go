package main

import (
	"io"
	"strings"
	"testing"
)

func TestBudgetsConfig_defaultsFlagsAndRefusals(t *testing.T) {
	var out strings.Builder
	if _, err := parseConfigTo([]string{"--help"}, func(string) string { return "" }, &out); err == nil {
		t.Fatal("--help did not stop")
	}
	for _, v := range []string{"SMS_PER_DESTINATION_PER_HOUR", "SMS_GLOBAL_PER_HOUR", "EMAIL_PER_DESTINATION_PER_HOUR",
		"EMAIL_GLOBAL_PER_HOUR", "CASHOUTS_PER_USER_PER_HOUR", "PHONE_VERIFICATIONS_PER_STAFF_PER_HOUR", "RECIPIENT_MISSES_PER_HOUR"} {
		if !strings.Contains(out.String(), "("+v+")") {
			t.Errorf("--help does not mention %s", v)
		}
	}
	c, err := parseConfigTo(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Budgets{SMSPerDestinationPerHour: 5, SMSGlobalPerHour: 500, EmailPerDestinationPerHour: 10,
		EmailGlobalPerHour: 5000, CashoutsPerUserPerHour: 10, PhoneStartsPerStaffPerHour: 30, RecipientMissesPerHour: 10}
	if c.Budgets != want {
		t.Errorf("defaults = %+v, want %+v", c.Budgets, want)
	}
	env := map[string]string{"SMS_GLOBAL_PER_HOUR": "7", "RECIPIENT_MISSES_PER_HOUR": "0"}
	c, err = parseConfigTo([]string{"--sms-global-per-hour=9"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.Budgets.SMSGlobalPerHour != 9 || c.Budgets.RecipientMissesPerHour != 0 {
		t.Errorf("flag over environment, 0 allowed: %+v, %v", c.Budgets, err)
	}
	for _, bad := range []string{"SMS_PER_DESTINATION_PER_HOUR=-1", "CASHOUTS_PER_USER_PER_HOUR=many"} {
		k, v, _ := strings.Cut(bad, "=")
		_, err := parseConfigTo(nil, func(name string) string { return map[string]string{k: v}[name] }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s: %v, want refused naming %s", bad, err, k)
		}
	}
}
