"""cratedigger: match Rekordbox playlists to Beatport, sync or async, and measure it."""

__all__: list[str] = []
