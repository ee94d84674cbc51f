from captions.limits.base import address_key, limited_as


def test_an_ipv6_client_is_limited_as_its_64_and_a_mapped_ipv4_as_itself() -> None:
    assert (
        limited_as("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == limited_as("2001:db8:1:2::7") == "2001:db8:1:2::/64"
    )
    assert limited_as("2001:db8:1:3::7") != limited_as("2001:db8:1:2::7")
    assert limited_as("::ffff:198.51.100.7") == limited_as("198.51.100.7") == "198.51.100.7"
    assert limited_as("unknown") == "unknown"
    assert address_key("connections", "2001:db8:1:2::7") == "connections:addr:{2001:db8:1:2::/64}"
