package main

import (
	"flag"
	"fmt"
	"strconv"
)

// Budgets are the hourly counts that bound messages and the operations that send them or probe
// who banks here (docs/security.md, "Codes, SMS and e-mail budgets"). Zero turns one off.
type Budgets struct {
	SMSPerDestinationPerHour   int
	SMSGlobalPerHour           int
	EmailPerDestinationPerHour int
	EmailGlobalPerHour         int
	CashoutsPerUserPerHour     int
	PhoneStartsPerStaffPerHour int
	RecipientMissesPerHour     int
}

// budgetFlags holds the raw values until the flags are parsed.
type budgetFlags struct {
	values []budgetValue
}

type budgetValue struct {
	env   string
	value *string
	dst   *int
}

// registerBudgets declares the budget settings on fs with their environment defaults.
func registerBudgets(fs *flag.FlagSet, getenv func(string) string, b *Budgets) *budgetFlags {
	settings := []struct {
		name, env, def, usage string
		dst                   *int
	}{
		{"sms-per-destination-per-hour", "SMS_PER_DESTINATION_PER_HOUR", "5", "SMS to one phone number per hour; 0 off", &b.SMSPerDestinationPerHour},
		{"sms-global-per-hour", "SMS_GLOBAL_PER_HOUR", "500", "SMS in all per hour and instance; 0 off", &b.SMSGlobalPerHour},
		{"email-per-destination-per-hour", "EMAIL_PER_DESTINATION_PER_HOUR", "10", "e-mails to one address per hour; 0 off", &b.EmailPerDestinationPerHour},
		{"email-global-per-hour", "EMAIL_GLOBAL_PER_HOUR", "5000", "e-mails in all per hour and instance; 0 off", &b.EmailGlobalPerHour},
		{"cashouts-per-user-per-hour", "CASHOUTS_PER_USER_PER_HOUR", "10", "createCashout calls per customer per hour; 0 off", &b.CashoutsPerUserPerHour},
		{"phone-verifications-per-staff-per-hour", "PHONE_VERIFICATIONS_PER_STAFF_PER_HOUR", "30", "startPhoneVerification calls per staff user per hour; 0 off", &b.PhoneStartsPerStaffPerHour},
		{"recipient-misses-per-hour", "RECIPIENT_MISSES_PER_HOUR", "10", "sendCoins recipients not found per customer per hour; 0 off", &b.RecipientMissesPerHour},
	}
	bf := &budgetFlags{}
	for _, s := range settings {
		def := s.def
		if v := getenv(s.env); v != "" {
			def = v
		}
		v := new(string)
		fs.StringVar(v, s.name, def, s.usage+" ("+s.env+")")
		bf.values = append(bf.values, budgetValue{env: s.env, value: v, dst: s.dst})
	}
	return bf
}

// parse checks and stores the values once the flags are parsed.
func (bf *budgetFlags) parse() error {
	for _, v := range bf.values {
		n, err := strconv.Atoi(*v.value)
		if err != nil || n < 0 {
			return fmt.Errorf("%s: not a count: %q", v.env, *v.value)
		}
		*v.dst = n
	}
	return nil
}
