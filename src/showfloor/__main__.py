from showfloor.cli.main import main

main()
