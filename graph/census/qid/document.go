package qid

// The document types of the contract's enum DocumentType, spelled as the
// GraphQL enum values so a resolver can pass them through unchanged.
const (
	DocumentDNI      = "DNI"
	DocumentNIE      = "NIE"
	DocumentPassport = "PASSPORT"
)

// controlLetters maps a DNI/NIE number modulo 23 to its control letter.
// I, Ñ, O and U are left out so the letter cannot be misread as a digit or
// another letter.
const controlLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

const (
	// maxDocumentInput bounds the raw input, separators included. It equals
	// MaxValueLen so every input ValidateDocument accepts can also be typed
	// as "<input>@document_id".
	maxDocumentInput = MaxValueLen

	minPassportLen = 3
	// maxPassportLen is generous: ICAO 9303 passport numbers are at most 9
	// characters, but other travel documents registered as PASSPORT are
	// longer, and the check is only there to refuse garbage.
	maxPassportLen = 20
)

func invalidDocument(msg string) error {
	return &userError{msg: msg, sentinel: ErrInvalidDocument}
}

// ValidateDocument checks a document number of the given type (DocumentDNI,
// DocumentNIE or DocumentPassport) and returns its normalized form: upper
// case, without the spaces and dashes people type when copying from a card.
// The normalized form is what the registry stores and what
// Parse("<number>@document_id") produces, so a person is found however the
// number was typed.
//
//   - DNI: 8 digits and a control letter, which must be
//     "TRWAGMYFPDXBNJZSQVHLCKE"[number % 23].
//   - NIE: X, Y or Z, 7 digits and a control letter, computed as for a DNI
//     with X, Y, Z replaced by 0, 1, 2.
//   - PASSPORT: 3 to 20 letters or digits. Foreign passports follow no
//     common check-digit scheme, so only the shape is checked.
//
// Errors wrap ErrInvalidDocument and have messages fit for an end user. On
// error the normalized value is "".
func ValidateDocument(docType, id string) (normalized string, err error) {
	switch docType {
	case DocumentDNI, DocumentNIE, DocumentPassport:
	default:
		return "", invalidDocument("document type must be DNI, NIE or PASSPORT")
	}
	if len(id) > maxDocumentInput {
		return "", invalidDocument("document number must be at most 64 characters")
	}
	norm, ok := normalizeDocumentID(id)
	if norm == "" && ok {
		return "", invalidDocument("document number is required")
	}
	switch docType {
	case DocumentDNI:
		if !ok || len(norm) != 9 || !allDigits(norm[:8]) || !isUpper(norm[8]) {
			return "", invalidDocument("DNI must be 8 digits and a letter")
		}
		if controlLetter(norm[:8]) != norm[8] {
			return "", invalidDocument("DNI control letter does not match the number")
		}
	case DocumentNIE:
		if !ok || len(norm) != 9 || !allDigits(norm[1:8]) || !isUpper(norm[8]) {
			return "", invalidDocument("NIE must be X, Y or Z, 7 digits and a letter")
		}
		var prefix byte
		switch norm[0] {
		case 'X':
			prefix = '0'
		case 'Y':
			prefix = '1'
		case 'Z':
			prefix = '2'
		default:
			return "", invalidDocument("NIE must be X, Y or Z, 7 digits and a letter")
		}
		if controlLetter(string(prefix)+norm[1:8]) != norm[8] {
			return "", invalidDocument("NIE control letter does not match the number")
		}
	case DocumentPassport:
		if !ok || len(norm) < minPassportLen || len(norm) > maxPassportLen {
			return "", invalidDocument("passport number must be 3 to 20 letters or digits")
		}
	}
	return norm, nil
}

// controlLetter returns the DNI control letter of 8 decimal digits. Eight
// digits are below 10^8, so the number fits any int.
func controlLetter(digits string) byte {
	n := 0
	for i := 0; i < len(digits); i++ {
		n = n*10 + int(digits[i]-'0')
	}
	return controlLetters[n%23]
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
