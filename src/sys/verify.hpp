// Checking a signature with the tools git uses: OpenSSH's ssh-keygen -Y
// against an allowed-signers file, gpgv against an OpenPGP keyring. Nothing
// cryptographic is done here; the tools' answers are read by core/signature.
#pragma once
#include <string>

#include "core/config.hpp"
#include "core/signature.hpp"
#include "error.hpp"

namespace huddle::sys {

// Whom the signature on SIGNED belongs to, if the config's signers or keyring
// allow that key now. -EKEYREJECTED, saying why (unsigned, a signer not
// allowed, expired or revoked, bad signature), when the signature is
// refused; another error when the check could not run (a tool missing),
// which says nothing about the signature. WORKDIR: a directory of root's
// where the signature and payload are written for the tools, then removed.
Result<Signer> verify_signature(const SignedPayload& signed_payload, const RepositoryConfig& repo, const std::string& workdir);

}  // namespace huddle::sys
