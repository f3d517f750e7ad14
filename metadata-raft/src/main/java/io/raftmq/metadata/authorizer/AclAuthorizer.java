package io.raftmq.metadata.authorizer;

import io.raftmq.metadata.image.AclsImage;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * Decides whether a principal, connected from a host, may do an operation on a resource, from the
 * cluster's ACLs, with the semantics of Kafka's StandardAuthorizer:
 *
 * <ul>
 *   <li>a super user ({@code super.users}) may do everything, whatever the ACLs say;
 *   <li>the ACLs that apply are those on the resource's type whose pattern matches its name (LITERAL
 *       equal, LITERAL "*", PREFIXED a prefix of it), for the principal or "User:*", from the host
 *       or "*";
 *   <li>a matching DENY wins over any ALLOW; ALL matches every operation; an ALLOW of READ, WRITE,
 *       DELETE or ALTER also allows DESCRIBE, and one of ALTER_CONFIGS allows DESCRIBE_CONFIGS (a
 *       DENY implies nothing);
 *   <li>with no matching ALLOW: denied, unless no ACL at all applies to the resource (for anyone),
 *       in which case {@code allow.everyone.if.no.acl.found} decides.
 * </ul>
 *
 * <p>Pure and immutable: the ACLs are passed in (the metadata image's), so every call sees one
 * consistent set. Thread-safe.
 */
public final class AclAuthorizer {
    /** The principal of ACLs that apply to every principal. */
    public static final String WILDCARD_PRINCIPAL = "User:*";
    /** The host of ACLs that apply to every host. */
    public static final String WILDCARD_HOST = "*";

    private static final Set<AclOperation> IMPLIES_DESCRIBE = EnumSet.of(AclOperation.DESCRIBE, AclOperation.READ,
            AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER);
    private static final Set<AclOperation> IMPLIES_DESCRIBE_CONFIGS =
            EnumSet.of(AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS);

    private final Set<String> superUsers;
    private final boolean allowEveryoneIfNoAclFound;

    /**
     * @param superUsers principals ("User:admin") allowed everything
     * @param allowEveryoneIfNoAclFound what to answer for a resource no ACL applies to
     */
    public AclAuthorizer(Set<String> superUsers, boolean allowEveryoneIfNoAclFound) {
        this.superUsers = Set.copyOf(superUsers);
        this.allowEveryoneIfNoAclFound = allowEveryoneIfNoAclFound;
    }

    /**
     * The principals of a {@code super.users} value, Kafka's format: separated by semicolons, each
     * "Type:name" ("User:admin;User:ops"), blanks around them ignored.
     *
     * @throws IllegalArgumentException naming an entry that is not "Type:name"
     */
    public static Set<String> parseSuperUsers(String value) {
        Set<String> out = new HashSet<>();
        for (String entry : Arrays.stream(value.split(";")).map(String::trim).filter(s -> !s.isEmpty())
                .collect(Collectors.toList())) {
            int colon = entry.indexOf(':');
            if (colon <= 0 || colon == entry.length() - 1) {
                throw new IllegalArgumentException("super.users entry '" + entry + "' is not a principal of the form"
                        + " Type:name (e.g. User:admin); entries are separated by ';'");
            }
            out.add(entry);
        }
        return out;
    }

    public Set<String> superUsers() {
        return superUsers;
    }

    public boolean allowEveryoneIfNoAclFound() {
        return allowEveryoneIfNoAclFound;
    }

    /** Whether {@code principal} from {@code host} (an IP address) may do {@code op} on the resource. */
    public boolean authorize(AclsImage acls, KafkaPrincipal principal, String host, AclOperation op,
            ResourceType type, String name) {
        String who = principalName(principal);
        if (superUsers.contains(who)) {
            return true;
        }
        boolean anyAcl = false;
        boolean allowed = false;
        for (AclBinding acl : acls.applying(type, name)) {
            anyAcl = true;
            AclPermissionType result = result(acl, who, host, op);
            if (result == AclPermissionType.DENY) {
                return false;
            }
            if (result == AclPermissionType.ALLOW) {
                allowed = true;
            }
        }
        return allowed || (!anyAcl && allowEveryoneIfNoAclFound);
    }

    /**
     * Whether {@code principal} may do {@code op} on at least one resource of {@code type} (Kafka's
     * Authorizer.authorizeByResourceType: an idempotent producer without IDEMPOTENT_WRITE on the
     * cluster needs WRITE on some topic): allowed when it would be on a resource no ACL names (a
     * super user, or allow.everyone.if.no.acl.found), or when an ALLOW for it (literal, "*" or
     * prefixed) is not covered by a DENY (a literal "*" DENY covers everything, a literal DENY its
     * name, a prefixed DENY every name and prefix that starts with it).
     */
    public boolean authorizeByResourceType(AclsImage acls, KafkaPrincipal principal, String host, AclOperation op,
            ResourceType type) {
        if (authorize(acls, principal, host, op, type, "hardcode")) {
            // The name no ACL is expected to name, as Kafka checks it, so that super users and
            // allow.everyone.if.no.acl.found pass whatever DENY ACLs exist.
            return true;
        }
        String who = principalName(principal);
        Set<String> deniedLiterals = new HashSet<>();
        Set<String> deniedPrefixes = new HashSet<>();
        Set<String> allowedLiterals = new HashSet<>();
        Set<String> allowedPrefixes = new HashSet<>();
        boolean wildcardAllowed = false;
        for (AclBinding acl : acls.ofType(type)) {
            if (!appliesTo(acl, who, host) || (acl.entry().operation() != op
                    && acl.entry().operation() != AclOperation.ALL)) {
                continue;
            }
            boolean literal = acl.pattern().patternType() == PatternType.LITERAL;
            String name = acl.pattern().name();
            if (acl.entry().permissionType() == AclPermissionType.DENY) {
                if (literal && name.equals(ResourcePattern.WILDCARD_RESOURCE)) {
                    return false;
                }
                (literal ? deniedLiterals : deniedPrefixes).add(name);
            } else if (literal && name.equals(ResourcePattern.WILDCARD_RESOURCE)) {
                wildcardAllowed = true;
            } else {
                (literal ? allowedLiterals : allowedPrefixes).add(name);
            }
        }
        if (wildcardAllowed) {
            return true;
        }
        for (String name : allowedLiterals) {
            if (!deniedLiterals.contains(name) && !coveredByPrefix(name, deniedPrefixes)) {
                return true;
            }
        }
        for (String prefix : allowedPrefixes) {
            if (!coveredByPrefix(prefix, deniedPrefixes)) {
                return true;
            }
        }
        return false;
    }

    private static boolean coveredByPrefix(String name, Set<String> prefixes) {
        for (int length = 1; length <= name.length(); length++) {
            if (prefixes.contains(name.substring(0, length))) {
                return true;
            }
        }
        return false;
    }

    /** ALLOW or DENY when {@code acl} decides {@code op} for the principal and host, else null. */
    private static AclPermissionType result(AclBinding acl, String who, String host, AclOperation op) {
        if (!appliesTo(acl, who, host)) {
            return null;
        }
        AclOperation aclOp = acl.entry().operation();
        AclPermissionType permission = acl.entry().permissionType();
        if (aclOp == AclOperation.ALL || aclOp == op) {
            return permission;
        }
        if (permission == AclPermissionType.ALLOW) {
            if (op == AclOperation.DESCRIBE && IMPLIES_DESCRIBE.contains(aclOp)) {
                return permission;
            }
            if (op == AclOperation.DESCRIBE_CONFIGS && IMPLIES_DESCRIBE_CONFIGS.contains(aclOp)) {
                return permission;
            }
        }
        return null;
    }

    private static boolean appliesTo(AclBinding acl, String who, String host) {
        String principal = acl.entry().principal();
        if (!principal.equals(who) && !principal.equals(WILDCARD_PRINCIPAL)) {
            return false;
        }
        String aclHost = acl.entry().host();
        return aclHost.equals(WILDCARD_HOST) || aclHost.equals(host);
    }

    /** "Type:name" of the principal, whatever subclass of KafkaPrincipal carries it. */
    private static String principalName(KafkaPrincipal principal) {
        return principal.getPrincipalType() + ":" + principal.getName();
    }
}
