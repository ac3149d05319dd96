#pragma once
// The one canonical form of an email address, computed once at the edge and
// then stored, indexed and compared byte for byte. Two spellings of one
// mailbox must never reach two accounts, and no spelling may reach another
// mailbox's account (Postgres lower() folds K KELVIN SIGN to k, which is how
// a "\u212Aim@" request used to sign in as "kim@").
//
// The rule:
// - local part (before the @): ASCII only (RFC 5322 dot-atom: letters,
//   digits, !#$%&'*+/=?^_`{|}~- and single inner dots), folded to lower
//   case. Non-ASCII local parts (SMTPUTF8) are refused: their case and
//   normalisation rules are the mail server's, unknowable here.
// - domain: IDNA2008 with UTS #46 mapping (libidn2, what curl uses): NFC,
//   case folding and width mapping, then A-labels (xn--…). So
//   "BÜCHER.example", "bu\u0308cher.example" and "bücher.example" are one
//   domain, stored as "xn--bcher-kva.example", and mail goes to that form.
#include <string>

namespace orbitnest::authd {

// The canonical address, or ApiError 400 validation_failed saying why not.
std::string canonical_email(const std::string& raw);

}  // namespace orbitnest::authd
