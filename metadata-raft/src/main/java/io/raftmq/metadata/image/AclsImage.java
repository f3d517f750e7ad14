package io.raftmq.metadata.image;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The cluster's ACLs by id, with an index of them by resource for the authorizer: which ACLs apply
 * to one resource (its literal name, the literal wildcard "*", and every prefixed pattern the name
 * starts with) is found with a few hash lookups, without scanning every ACL. Immutable: built once
 * per metadata change that touches ACLs (on the thread applying metadata) and shared by readers.
 */
public final class AclsImage {
    public static final AclsImage EMPTY = new AclsImage(Map.of());

    private final Map<UUID, AclBinding> byId;
    private final Map<ResourceType, Section> sections = new EnumMap<>(ResourceType.class);

    /** @param byId every ACL by id; each is concrete (no ANY, MATCH or UNKNOWN values) */
    public AclsImage(Map<UUID, AclBinding> byId) {
        this.byId = Map.copyOf(byId);
        Map<ResourceType, Map<String, List<AclBinding>>> literal = new EnumMap<>(ResourceType.class);
        Map<ResourceType, Map<String, List<AclBinding>>> prefixed = new EnumMap<>(ResourceType.class);
        for (AclBinding acl : this.byId.values()) {
            ResourcePattern pattern = acl.pattern();
            Map<ResourceType, Map<String, List<AclBinding>>> target =
                    pattern.patternType() == PatternType.PREFIXED ? prefixed : literal;
            target.computeIfAbsent(pattern.resourceType(), t -> new HashMap<>())
                    .computeIfAbsent(pattern.name(), n -> new ArrayList<>()).add(acl);
        }
        for (ResourceType type : ResourceType.values()) {
            Map<String, List<AclBinding>> l = literal.getOrDefault(type, Map.of());
            Map<String, List<AclBinding>> p = prefixed.getOrDefault(type, Map.of());
            if (!l.isEmpty() || !p.isEmpty()) {
                sections.put(type, new Section(l, p));
            }
        }
    }

    /** The ACLs of one resource type: literal ones by name, prefixed ones by prefix. */
    private static final class Section {
        final Map<String, List<AclBinding>> literal;
        final Map<String, List<AclBinding>> prefixed;
        /** The distinct lengths of the prefixes, ascending. */
        final int[] prefixLengths;

        Section(Map<String, List<AclBinding>> literal, Map<String, List<AclBinding>> prefixed) {
            this.literal = Map.copyOf(literal);
            this.prefixed = Map.copyOf(prefixed);
            TreeSet<Integer> lengths = new TreeSet<>();
            prefixed.keySet().forEach(k -> lengths.add(k.length()));
            this.prefixLengths = lengths.stream().mapToInt(Integer::intValue).toArray();
        }
    }

    public Map<UUID, AclBinding> byId() {
        return byId;
    }

    public int size() {
        return byId.size();
    }

    public boolean isEmpty() {
        return byId.isEmpty();
    }

    /** Every ACL, in a stable order (by resource, then entry), for listings and snapshots. */
    public List<Map.Entry<UUID, AclBinding>> sorted() {
        List<Map.Entry<UUID, AclBinding>> out = new ArrayList<>(byId.entrySet());
        out.sort(Comparator.comparing((Map.Entry<UUID, AclBinding> e) -> e.getValue().toString())
                .thenComparing(Map.Entry::getKey));
        return out;
    }

    /**
     * The ACLs whose pattern applies to the resource {@code type} named {@code name}, whoever they
     * are for: LITERAL with this name or "*", and PREFIXED with a prefix of the name. None for a
     * null name (a request that names no resource).
     */
    public List<AclBinding> applying(ResourceType type, String name) {
        Section section = sections.get(type);
        if (section == null || name == null) {
            return List.of();
        }
        List<AclBinding> out = new ArrayList<>();
        out.addAll(section.literal.getOrDefault(name, List.of()));
        if (!name.equals(ResourcePattern.WILDCARD_RESOURCE)) {
            out.addAll(section.literal.getOrDefault(ResourcePattern.WILDCARD_RESOURCE, List.of()));
        }
        for (int length : section.prefixLengths) {
            if (length > name.length()) {
                break;
            }
            out.addAll(section.prefixed.getOrDefault(name.substring(0, length), List.of()));
        }
        return Collections.unmodifiableList(out);
    }

    /** Every ACL on resources of {@code type}, whatever the name. */
    public List<AclBinding> ofType(ResourceType type) {
        Section section = sections.get(type);
        if (section == null) {
            return List.of();
        }
        List<AclBinding> out = new ArrayList<>();
        section.literal.values().forEach(out::addAll);
        section.prefixed.values().forEach(out::addAll);
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AclsImage other && byId.equals(other.byId);
    }

    @Override
    public int hashCode() {
        return byId.hashCode();
    }

    @Override
    public String toString() {
        return "AclsImage(" + byId.size() + " acls)";
    }
}
