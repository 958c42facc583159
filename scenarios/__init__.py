"""Built-in scenarios (`meshnet run NAME`), also usable as examples to copy."""
