from dynapose.cli import main

main()
